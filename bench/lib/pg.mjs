// PostgreSQL for the server and growth sections: every run works in its own fresh schemas, dropped at
// the end, so it never touches anything else in the database.
export const PG_URL = process.env.CAIRN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, unused schema name for this run. */
export const schemaName = (label) => `cairn_bench_${process.pid}_${label}`;

/** A one-connection client, or throws with the reason PostgreSQL cannot be reached. */
export async function pgClient() {
  const { default: postgres } = await import('postgres');
  const sql = postgres(PG_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await sql`select 1`;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new Error(
      `PostgreSQL unreachable at ${PG_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}: ${e?.message ?? e}`,
    );
  }
  return sql;
}

export async function pgVersion(sql) {
  const [r] = await sql`show server_version`;
  return r.server_version;
}

export async function dropSchema(sql, name) {
  await sql`drop schema if exists ${sql(name)} cascade`;
}

/** Bytes held by a schema's tables, with their indexes and TOAST. */
export async function schemaBytes(sql, name) {
  const [r] = await sql`
    select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${name} and c.relkind in ('r', 'p', 'm')`;
  return Number(r.bytes);
}

/** Refreshes the planner's statistics of every table in a schema. */
export async function analyzeSchema(sql, name) {
  const q = (id) => `"${id.replace(/"/g, '""')}"`;
  for (const t of await sql`select tablename from pg_tables where schemaname = ${name}`)
    await sql.unsafe(`analyze ${q(name)}.${q(t.tablename)}`);
}
