import { type Actor, createActor } from 'xstate';
import {
  type RejectionCode,
  type SupervisorMachineInput,
  supervisorMachine,
} from '../../machines/supervisor.machine.js';
import type { Clock } from '../clock.js';
import type { InspectionObserver } from './types.js';

export type SupervisorActor = Actor<typeof supervisorMachine>;

/** What the supervisor chart's actions do, implemented by the supervisor's runtime. */
export interface SupervisorActionHooks {
  /** The admission of `sessionId` reserved a slot. */
  approve(sessionId: string): void;
  reject(sessionId: string, code: RejectionCode): void;
  evictLeastRecentlyActiveIdle(at: number): void;
  evictLeastRecentlyActiveStreamsOnly(at: number): void;
  retireSettledSessions(): void;
  retireAllSessions(): void;
  /** Reports `SESSIONS.RELEASED` to `supervisor` once no ended session is still releasing. */
  awaitReleases(supervisor: { send(event: { type: 'SESSIONS.RELEASED' }): void }): void;
}

/** The supervisor actor, started, its actions provided by `hooks`. */
export function startSupervisorActor(
  input: SupervisorMachineInput,
  { clock, inspect }: { readonly clock: Clock; readonly inspect: InspectionObserver | undefined },
  hooks: SupervisorActionHooks,
): SupervisorActor {
  const logic = supervisorMachine.provide({
    actions: {
      startSession: (_, { sessionId }) => hooks.approve(sessionId),
      rejectAdmission: (_, { sessionId, code }) => hooks.reject(sessionId, code),
      evictLeastRecentlyActiveIdle: (_, { at }) => hooks.evictLeastRecentlyActiveIdle(at),
      evictLeastRecentlyActiveStreamsOnly: (_, { at }) => hooks.evictLeastRecentlyActiveStreamsOnly(at),
      retireSettledSessions: () => hooks.retireSettledSessions(),
      retireAllSessions: () => hooks.retireAllSessions(),
      awaitReleases: ({ self }) => hooks.awaitReleases(self),
    },
  });
  const actor = createActor(logic, {
    id: 'supervisor',
    input,
    clock,
    ...(inspect ? { inspect } : {}),
  });
  actor.start();
  return actor;
}
