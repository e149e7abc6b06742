import { createRequire } from 'node:module';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { requirePeer } from '../peer.js';
import { type ChartState, initialNodeId, type Statechart } from './statechart.js';

/*
 * Places a statechart with elkjs (the Eclipse Layout Kernel compiled to JavaScript: layered
 * layout with nested states and edges that cross levels, which statecharts need). Layout runs on
 * the server, once per machine; the page only draws the boxes and arrows it is given, so nothing
 * is fetched by the browser and no coordinate is written by hand.
 *
 * elkjs is an optional peer dependency: only users of the live view need it.
 */

/** The layout library, as the live view names it in its error when it is missing. */
export const LAYOUT_PACKAGE = 'elkjs';

interface ElkLayouter {
  layout(graph: ElkNode): Promise<ElkNode>;
}
type ElkConstructor = new () => ElkLayouter;

const requireHere = createRequire(import.meta.url);
let elk: ElkLayouter | undefined;

/**
 * Loads elkjs (once, from this package's place); a `missing-peer-dependency` error naming it when
 * it is not installed. `requireFrom` resolves from elsewhere (tests: a directory without it).
 */
export function loadLayoutEngine(requireFrom: NodeJS.Require = requireHere): ElkLayouter {
  if (elk && requireFrom === requireHere) return elk;
  const ELK = requirePeer<ElkConstructor>(
    LAYOUT_PACKAGE,
    'mcp-session-supervisor/live-view (createLiveView draws its statecharts with it)',
    (pkg) => {
      requireFrom.resolve(pkg);
      // The bundled build runs in-process (no worker thread) and has no dependencies of its own.
      return requireFrom(`${pkg}/lib/elk.bundled.js`);
    },
  );
  const engine = new ELK();
  if (requireFrom === requireHere) elk = engine;
  return engine;
}

/** A state placed on the page, in the drawing's own coordinates (pixels, origin top left). */
export interface PlacedState extends Pick<ChartState, 'id' | 'key' | 'type' | 'internal' | 'invokes'> {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly depth: number;
}

export interface PlacedTransition {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly label: string;
  readonly guard: string | undefined;
  readonly kind: string;
  /** The route, start to end, through ELK's bend points. */
  readonly points: ReadonlyArray<{ readonly x: number; readonly y: number }>;
  /** Where the label's top-left corner goes, when the arrow has one. */
  readonly labelAt: { readonly x: number; readonly y: number } | undefined;
}

/** An initial pseudo-state: a dot. */
export interface PlacedDot {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly size: number;
}

/** What the page draws for one machine. */
export interface ChartDrawing {
  readonly machine: string;
  readonly width: number;
  readonly height: number;
  readonly states: readonly PlacedState[];
  readonly dots: readonly PlacedDot[];
  readonly transitions: readonly PlacedTransition[];
}

/*
 * Text sizes the page uses (see page-style.ts): the server cannot measure fonts, so the page draws
 * labels in a monospace face whose advance is known, and names in a bold face with some slack.
 */
export const LABEL_FONT_PX = 11;
const LABEL_CHAR_PX = 6.7;
const NAME_CHAR_PX = 8.4;
const LINE_PX = 15;
const NAME_PX = 22;
const PAD = 10;
const DOT = 12;
/** Room for the count badge the page draws in each state's top-right corner. */
const BADGE = 38;
/** Room after an arrow's label for the page's "×12" (times taken). */
const COUNT_PX = 24;

const labelWidth = (text: string) => Math.ceil(text.length * LABEL_CHAR_PX) + 6;

function stateSize(state: ChartState): { width: number; height: number } {
  const lines = [...state.invokes, ...state.internal];
  const width = Math.max(
    state.key.length * NAME_CHAR_PX + 2 * PAD + BADGE,
    ...lines.map(labelWidth).map((w) => w + 2 * PAD),
    96,
  );
  return { width: Math.ceil(width), height: NAME_PX + PAD + lines.length * LINE_PX + (lines.length ? 4 : 0) };
}

const LAYOUT_OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.spacing.nodeNode': '28',
  'elk.spacing.edgeLabel': '4',
  'elk.spacing.edgeNode': '14',
  'elk.edgeLabels.inline': 'false',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  // Keeps the definition's order where the layering allows: the drawing reads like the source.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  // Everything in the drawing's own coordinates: the page needs no tree walk to place a shape.
  'org.eclipse.elk.json.shapeCoords': 'ROOT',
  'org.eclipse.elk.json.edgeCoords': 'ROOT',
} as const;

function toElkGraph(chart: Statechart): ElkNode {
  const nodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: chart.id, layoutOptions: { ...LAYOUT_OPTIONS }, children: [], edges: [] };
  const containerOf = (parent: string | undefined) => (parent === undefined ? root : nodes.get(parent));
  const hasInitial = new Set(chart.transitions.filter((t) => t.kind === 'initial').map((t) => t.source));
  if (hasInitial.has(initialNodeId(chart.id))) {
    root.children?.push({ id: initialNodeId(chart.id), width: DOT, height: DOT });
  }
  for (const state of chart.states) {
    const container = containerOf(state.parent);
    if (!container) throw new Error(`state ${state.id} comes before its parent ${state.parent}`);
    const compound = state.type === 'compound' || state.type === 'parallel';
    const node: ElkNode = compound
      ? {
          id: state.id,
          children: [],
          layoutOptions: {
            'elk.padding': `[top=${NAME_PX + PAD + (state.invokes.length + state.internal.length) * LINE_PX},left=${PAD},bottom=${PAD},right=${PAD}]`,
            'elk.nodeSize.constraints': 'MINIMUM_SIZE',
            'elk.nodeSize.minimum': `(${stateSize(state).width}, ${stateSize(state).height})`,
          },
        }
      : { id: state.id, ...stateSize(state) };
    nodes.set(state.id, node);
    container.children?.push(node);
    if (compound && hasInitial.has(initialNodeId(state.id))) {
      node.children?.push({ id: initialNodeId(state.id), width: DOT, height: DOT });
    }
  }
  root.edges = chart.transitions.map(
    (transition): ElkExtendedEdge => ({
      id: transition.id,
      sources: [transition.source],
      targets: [transition.target],
      labels: transition.label
        ? [{ text: transition.label, width: labelWidth(transition.label) + COUNT_PX, height: LINE_PX }]
        : [],
    }),
  );
  return root;
}

const round = (value: number | undefined) => Math.round((value ?? 0) * 10) / 10;

/**
 * Lays out one statechart.
 *
 * @example
 * ```ts
 * const drawing = await layoutStatechart(describeMachine(sessionMachine));
 * drawing.states.find((state) => state.key === 'idle'); // { x, y, width, height, … }
 * ```
 */
export async function layoutStatechart(chart: Statechart): Promise<ChartDrawing> {
  const laidOut = await loadLayoutEngine().layout(toElkGraph(chart));
  const placed = new Map<string, ElkNode>();
  const depths = new Map<string, number>();
  const walk = (node: ElkNode, depth: number) => {
    for (const child of node.children ?? []) {
      placed.set(child.id, child);
      depths.set(child.id, depth);
      walk(child, depth + 1);
    }
  };
  walk(laidOut, 0);
  const box = (id: string) => {
    const node = placed.get(id);
    if (!node) throw new Error(`elkjs did not place ${id}`);
    return { x: round(node.x), y: round(node.y), width: round(node.width), height: round(node.height) };
  };
  const edges = new Map((laidOut.edges ?? []).map((edge) => [edge.id, edge]));
  const dots = [...placed.keys()]
    .filter((id) => id.endsWith(':initial'))
    .map((id) => {
      const { x, y, width } = box(id);
      return { id, x, y, size: width };
    });
  return {
    machine: chart.id,
    width: Math.ceil(laidOut.width ?? 0),
    height: Math.ceil(laidOut.height ?? 0),
    states: chart.states.map((state) => ({
      id: state.id,
      key: state.key,
      type: state.type,
      internal: state.internal,
      invokes: state.invokes,
      depth: depths.get(state.id) ?? 0,
      ...box(state.id),
    })),
    dots,
    transitions: chart.transitions.map((transition) => {
      const edge = edges.get(transition.id);
      const section = edge?.sections?.[0];
      const points = section
        ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({
            x: round(p.x),
            y: round(p.y),
          }))
        : [];
      const label = edge?.labels?.[0];
      return {
        id: transition.id,
        source: transition.source,
        target: transition.target,
        label: transition.label,
        guard: transition.guard,
        kind: transition.kind,
        points,
        labelAt: label && transition.label ? { x: round(label.x), y: round(label.y) } : undefined,
      };
    }),
  };
}
