export * from './session.machine.js';
export * from './supervisor.machine.js';
