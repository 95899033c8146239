import { buildSchema, type DocumentNode, execute, GraphQLError, parse, validate } from "graphql";
import type { Tag } from "./dataItem";
import { checkQueryLimits, type QueryLimits } from "./graphqlLimits";
import type { AosModule } from "./modules";
import type { Scheduled, Scheduler } from "./scheduler";

// The part of Arweave's gateway GraphQL schema that aoconnect, ao-scheduler-utils and deploy tools query.
const schema = buildSchema(`
  type Query {
    transaction(id: ID!): Transaction
    transactions(
      ids: [ID!]
      owners: [String!]
      recipients: [String!]
      tags: [TagFilter!]
      first: Int = 10
      after: String
      sort: SortOrder = HEIGHT_DESC
      block: BlockFilter
      bundledIn: [ID!]
      ingested_at: RangeFilter
    ): TransactionConnection!
  }
  input TagFilter { name: String!, values: [String!]!, op: TagOperator = EQ, match: TagMatch = EXACT }
  input BlockFilter { min: Int, max: Int }
  input RangeFilter { min: Int, max: Int }
  enum TagOperator { EQ NEQ }
  enum TagMatch { EXACT WILDCARD FUZZY_AND FUZZY_OR }
  enum SortOrder { HEIGHT_ASC HEIGHT_DESC INGESTED_AT_ASC INGESTED_AT_DESC }
  type TransactionConnection { pageInfo: PageInfo!, edges: [TransactionEdge!]!, count: Int }
  type PageInfo { hasNextPage: Boolean! }
  type TransactionEdge { cursor: String!, node: Transaction! }
  type Transaction {
    id: ID!
    anchor: String!
    signature: String!
    recipient: String!
    owner: Owner!
    fee: Amount!
    quantity: Amount!
    data: MetaData!
    tags: [Tag!]!
    block: Block
    parent: Parent
    bundledIn: Parent
    ingested_at: Int
  }
  type Owner { address: String!, key: String! }
  type Amount { winston: String!, ar: String! }
  type MetaData { size: String!, type: String }
  type Tag { name: String!, value: String! }
  type Block { id: ID!, timestamp: Int!, height: Int!, previous: ID! }
  type Parent { id: ID! }
`);

interface Tx {
  id: string;
  owner: { address: string; key: string };
  recipient: string;
  anchor: string;
  signature: string;
  tags: Tag[];
  dataSize: number;
  height: number;
  timestamp: number;
  /** Insertion order: the tiebreak within a block. */
  seq: number;
}

interface TagFilter {
  name: string;
  values: string[];
  op?: "EQ" | "NEQ";
}

interface TxQuery {
  ids?: string[];
  owners?: string[];
  recipients?: string[];
  tags?: TagFilter[];
  first?: number;
  after?: string;
  sort?: "HEIGHT_ASC" | "HEIGHT_DESC" | "INGESTED_AT_ASC" | "INGESTED_AT_DESC";
  block?: { min?: number; max?: number };
}

export interface GatewayOptions {
  scheduler: Scheduler;
  modules: AosModule[];
  /** The network's own address: owner of the module and Scheduler-Location records. */
  address: string;
  suUrl: () => string;
}

const MAX_PAGE = 100;
/** Tokens of a query's text: the queries clients make have a few hundred; parsing stops beyond this. */
const MAX_TOKENS = 10_000;
const QUERY_LIMITS: QueryLimits = {
  maxNesting: 12,
  maxCost: 10_000,
  pagedFields: new Set(
    Object.values(schema.getQueryType()!.getFields())
      .filter((f) => f.args.some((a) => a.name === "first"))
      .map((f) => f.name),
  ),
  defaultPage: 10,
  maxPage: MAX_PAGE,
};

/** A GraphQL error as JSON, always with a message (a plain Error serializes as `{}`). */
function errorOf(err: unknown): Record<string, unknown> {
  if (err instanceof GraphQLError)
    return { ...err.toJSON(), message: err.message || "unknown GraphQL error" };
  const message = err instanceof Error ? err.message : String(err);
  return { message: message || "unknown error" };
}
/** Sequence numbers below this belong to the fixed records. */
const FIXED_RECORDS = 1000;

function matchesTags(tx: Tx, filters: TagFilter[]): boolean {
  return filters.every((f) => {
    const hit = tx.tags.some((t) => t.name === f.name && f.values.includes(t.value));
    return f.op === "NEQ" ? !hit : hit;
  });
}

/** A stand-in Arweave gateway: every data item this network accepted, its modules and scheduler record. */
export class Gateway {
  /** Every scheduled data item, indexed once as it is scheduled (durably). */
  private readonly items: Tx[] = [];
  private readonly byId = new Map<string, Tx>();

  constructor(private readonly o: GatewayOptions) {
    for (const p of o.scheduler.processes.values()) for (const s of p.messages) this.add(s);
    o.scheduler.onScheduled((s) => this.add(s));
  }

  private add(s: Scheduled): void {
    const tx: Tx = {
      id: s.item.id,
      owner: { address: s.item.owner, key: s.item.ownerKey },
      recipient: s.item.target,
      anchor: s.item.anchor,
      signature: s.item.signature,
      tags: s.item.tags,
      dataSize:
        s.item.rawData === undefined
          ? Buffer.byteLength(s.item.data, "utf8")
          : Buffer.from(s.item.rawData, "base64url").length,
      height: s.blockHeight,
      timestamp: s.timestamp,
      // Order by scheduler time across processes, then nonce.
      seq: FIXED_RECORDS + s.timestamp * 1e3 + (s.nonce % 1000),
    };
    this.items.push(tx);
    this.byId.set(tx.id, tx);
  }

  /** Runs a GraphQL request; every error answered carries a message. */
  async query(body: {
    query: string;
    variables?: Record<string, unknown> | null;
    operationName?: string | null;
  }) {
    const variables = body.variables ?? {};
    let document: DocumentNode;
    try {
      document = parse(body.query, { maxTokens: MAX_TOKENS });
      checkQueryLimits(document, variables, QUERY_LIMITS);
    } catch (err) {
      return { status: 400, body: { errors: [errorOf(err)] } };
    }
    const invalid = validate(schema, document, undefined, { maxErrors: 20 });
    if (invalid.length > 0) return { status: 400, body: { errors: invalid.map(errorOf) } };
    const result = await execute({
      schema,
      document,
      variableValues: variables,
      operationName: body.operationName,
      rootValue: {
        transactions: (args: TxQuery) => this.transactions(args),
        transaction: ({ id }: { id: string }) => {
          const tx = this.byId.get(id) ?? this.fixed().find((t) => t.id === id);
          return tx ? this.node(tx) : null;
        },
      },
    });
    const errors = result.errors?.map(errorOf);
    return {
      status: errors && !result.data ? 400 : 200,
      body: { ...(result.data !== undefined ? { data: result.data } : {}), ...(errors ? { errors } : {}) },
    };
  }

  private transactions(q: TxQuery) {
    const first = Math.min(Math.max(q.first ?? 10, 0), MAX_PAGE);
    const candidates = q.ids
      ? this.fixed().concat(q.ids.flatMap((id) => this.byId.get(id) ?? []))
      : this.all();
    let txs = candidates.filter(
      (tx) =>
        (!q.ids || q.ids.includes(tx.id)) &&
        (!q.owners || q.owners.includes(tx.owner.address)) &&
        (!q.recipients || q.recipients.includes(tx.recipient)) &&
        (!q.tags || matchesTags(tx, q.tags)) &&
        (q.block?.min === undefined || tx.height >= q.block.min) &&
        (q.block?.max === undefined || tx.height <= q.block.max),
    );
    const asc = q.sort === "HEIGHT_ASC" || q.sort === "INGESTED_AT_ASC";
    txs.sort((a, b) => (asc ? a.seq - b.seq : b.seq - a.seq));
    if (q.after) {
      const at = txs.findIndex((t) => t.id === Buffer.from(q.after!, "base64url").toString("utf8"));
      txs = at >= 0 ? txs.slice(at + 1) : txs;
    }
    const page = txs.slice(0, first);
    return {
      count: txs.length,
      pageInfo: { hasNextPage: txs.length > page.length },
      edges: page.map((tx) => ({ cursor: Buffer.from(tx.id).toString("base64url"), node: this.node(tx) })),
    };
  }

  private node(tx: Tx) {
    return {
      id: tx.id,
      anchor: tx.anchor,
      signature: tx.signature,
      recipient: tx.recipient,
      owner: tx.owner,
      fee: { winston: "0", ar: "0.000000000000" },
      quantity: { winston: "0", ar: "0.000000000000" },
      data: {
        size: String(tx.dataSize),
        type: tx.tags.find((t) => t.name === "Content-Type")?.value ?? null,
      },
      tags: tx.tags,
      block: {
        id: `block-${tx.height}`,
        timestamp: Math.floor(tx.timestamp / 1000),
        height: tx.height,
        previous: `block-${tx.height - 1}`,
      },
      parent: null,
      bundledIn: null,
      ingested_at: Math.floor(tx.timestamp / 1000),
    };
  }

  /** The network's own records: its modules and its scheduler's location. */
  private fixed(): Tx[] {
    return [
      ...this.o.modules.map((m, i) => ({
        id: m.id,
        owner: { address: this.o.address, key: "" },
        recipient: "",
        anchor: "",
        signature: "",
        tags: m.tags,
        dataSize: 0,
        height: 1,
        timestamp: 0,
        seq: i,
      })),
      {
        id: `scheduler-location-${this.o.address}`.slice(0, 43),
        owner: { address: this.o.address, key: "" },
        recipient: "",
        anchor: "",
        signature: "",
        tags: [
          { name: "Data-Protocol", value: "ao" },
          { name: "Variant", value: "ao.TN.1" },
          { name: "Type", value: "Scheduler-Location" },
          { name: "Url", value: this.o.suUrl() },
          { name: "Time-To-Live", value: String(10 * 365 * 24 * 3600 * 1000) },
        ],
        dataSize: 0,
        height: 1,
        timestamp: 0,
        seq: this.o.modules.length,
      },
    ];
  }

  private all(): Tx[] {
    return this.fixed().concat(this.items);
  }
}
