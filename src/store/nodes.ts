// Node leases (table sip_node, sql/011): each running node renews its row; a node whose lease ran out
// is dead for the others, and exactly one of them claims it to take its calls over. Every time here is
// the database's clock, so nodes never compare their own clocks.
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export interface NodeRegistration {
  id: string;
  host: string;
  sipAddress: string;
  pid: number;
  leaseSec: number;
}

/** Registers a node under lease; resolves with the database's time. */
export async function registerNode(db: Queryable, n: NodeRegistration): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>(
    `insert into sip_node (id, host, sip_address, pid, lease_until) values ($1, $2, $3, $4, now() + make_interval(secs => $5))
     returning now() as now`,
    [n.id, n.host, n.sipAddress, n.pid, n.leaseSec],
  );
  return rows[0]!.now;
}

/**
 * Renews the lease. Resolves with the database's time, or undefined when the row is gone or taken:
 * another node has taken this node's calls over (its lease ran out), and this node must not go on.
 */
export async function renewLease(db: Queryable, id: string, leaseSec: number): Promise<Date | undefined> {
  const { rows } = await db.query<{ now: Date }>({
    name: 'sip_node_renew',
    text: `update sip_node set seen_at = now(), lease_until = now() + make_interval(secs => $2)
            where id = $1 and taken_by is null returning now() as now`,
    values: [id, leaseSec],
  });
  return rows[0]?.now;
}

/** Nodes whose lease has run out and that nobody live is taking over (a taker that died leaves them again). */
export async function expiredNodes(db: Queryable, me: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select n.id from sip_node n
      where n.lease_until < now() and n.id <> $1
        and (n.taken_by is null or not exists (select 1 from sip_node t where t.id = n.taken_by and t.lease_until >= now()))`,
    [me],
  );
  return rows.map((r) => r.id);
}

/**
 * Claims a dead node for `me`: only one claimant wins. Resolves with the last moment the dead node was
 * known alive (its last heartbeat), or undefined when another node got there first or it came back.
 */
export async function claimNode(db: Queryable, id: string, me: string, leaseSec: number): Promise<Date | undefined> {
  const { rows } = await db.query<{ seen_at: Date }>(
    `update sip_node n set taken_by = $2, lease_until = now() + make_interval(secs => $3)
      where n.id = $1 and n.lease_until < now()
        and (n.taken_by is null or not exists (select 1 from sip_node t where t.id = n.taken_by and t.lease_until >= now()))
      returning n.seen_at`,
    [id, me, leaseSec],
  );
  return rows[0]?.seen_at;
}

/** The node's row goes: it stopped cleanly, or its calls have been taken over. */
export async function removeNode(db: Queryable, id: string): Promise<void> {
  await db.query('delete from sip_node where id = $1', [id]);
}
