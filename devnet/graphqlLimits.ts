import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  Kind,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

export interface QueryLimits {
  /** Levels of selections, counting fragments and inline fragments as levels too. */
  maxNesting: number;
  /** Fields the query may resolve: each counts once per item of every list around it. */
  maxCost: number;
  /** Fields that return a page of items, as many as their `first` argument asks. */
  pagedFields: ReadonlySet<string>;
  /** The page size of a paged field when the query gives no `first`. */
  defaultPage: number;
  /** The largest page a paged field returns, whatever `first` asks. */
  maxPage: number;
}

/** A query over one of the limits; the message names the limit and what to change. */
export class QueryLimitError extends Error {}

interface Measure {
  cost: number;
  depth: number;
}

/**
 * Checks every operation of `doc` against `limits` before it is validated or run: fragments are expanded,
 * each once (memoized), and the walk stops at the nesting limit, so neither deep nesting nor fragments that
 * fan out can make this check itself slow or overflow the stack. Throws QueryLimitError.
 */
export function checkQueryLimits(
  doc: DocumentNode,
  variables: Readonly<Record<string, unknown>>,
  limits: QueryLimits,
): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const measured = new Map<string, Measure | "measuring">();

  const pageOf = (field: FieldNode): number => {
    if (!limits.pagedFields.has(field.name.value)) return 1;
    const first = field.arguments?.find((a) => a.name.value === "first");
    if (!first) return limits.defaultPage;
    const n =
      first.value.kind === Kind.INT ? Number(first.value.value) : pageVariable(first.value, variables);
    return Math.min(Math.max(n, 0), limits.maxPage);
  };

  const tooDeep = () =>
    new QueryLimitError(
      `the query nests selections and fragments more than ${limits.maxNesting} levels deep (the limit): flatten it`,
    );

  // `level` is the nesting of `set`; the measure's depth counts the levels at and below it.
  const walk = (set: SelectionSetNode, level: number): Measure => {
    if (level > limits.maxNesting) throw tooDeep();
    let cost = 0;
    let depth = 0;
    for (const sel of set.selections) {
      let m: Measure;
      if (sel.kind === Kind.FIELD) {
        const inner = sel.selectionSet ? walk(sel.selectionSet, level + 1) : { cost: 0, depth: 0 };
        m = { cost: 1 + pageOf(sel) * inner.cost, depth: 1 + inner.depth };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const inner = walk(sel.selectionSet, level + 1);
        m = { cost: inner.cost, depth: 1 + inner.depth };
      } else {
        const name = sel.name.value;
        const known = measured.get(name);
        if (known === "measuring")
          throw new QueryLimitError(`fragment ${name} spreads itself: remove the cycle`);
        const fragment = fragments.get(name);
        if (!fragment) continue; // validation names the unknown fragment
        const inner = known ?? measureFragment(name, fragment, level);
        if (level + inner.depth > limits.maxNesting) throw tooDeep(); // measured earlier, at a shallower level
        m = { cost: inner.cost, depth: 1 + inner.depth };
      }
      cost += m.cost;
      depth = Math.max(depth, m.depth);
      if (cost > limits.maxCost) {
        throw new QueryLimitError(
          `the query's cost is over the limit of ${limits.maxCost}, counting each field once per item of the lists around it (a list returns \`first\` items, ${limits.defaultPage} by default): ask for fewer fields or smaller pages, or split the query`,
        );
      }
    }
    return { cost, depth };
  };

  const measureFragment = (name: string, fragment: FragmentDefinitionNode, level: number): Measure => {
    measured.set(name, "measuring");
    const m = walk(fragment.selectionSet, level + 1);
    measured.set(name, m);
    return m;
  };

  for (const d of doc.definitions) if (d.kind === Kind.OPERATION_DEFINITION) walk(d.selectionSet, 1);
}

/** A `first` given by a variable: its value, else the largest page (the variable may have a default). */
function pageVariable(v: ValueNode, variables: Readonly<Record<string, unknown>>): number {
  const n = v.kind === Kind.VARIABLE ? variables[v.name.value] : undefined;
  return typeof n === "number" && Number.isFinite(n) ? n : Number.POSITIVE_INFINITY;
}
