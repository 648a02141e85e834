// The customer list page of GET /v1/customers (default sort: newest first) served
// by Fastify 5 + node-postgres over the same database, for the comparison of
// issue 14 ("at least 2x faster than Fastify + node-postgres, in the same run").
// Written as a Node service would be: a pg.Pool, the tenant set per transaction
// for row-level security (as tradesphere does), one statement, a response schema
// (fast-json-stringify), no authentication (an advantage to this side).
//
//   DATABASE_URL=postgresql://tradesphere_app:…@127.0.0.1:PORT/tradesphere \
//   COMPANY_ID=<uuid> PORT=18181 node server.mjs
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL || 4) });
const company = process.env.COMPANY_ID;

// Since migration 0040 the metrics the page shows are copied onto the customer's row, so
// this side reads them there as tradesphere does (METRICS=join: the LEFT JOIN of
// customer_metrics both sides used before, for a comparison with the earlier runs).
const METRICS = process.env.METRICS === 'join'
  ? `coalesce(m.conversation_count, 0) AS conversation_count, coalesce(m.message_count, 0) AS message_count,
       m.first_contact_at, m.last_contact_at, m.last_message_preview
  FROM customers c
  LEFT JOIN customer_metrics m ON m.company_id = c.company_id AND m.customer_id = c.id`
  : `c.metric_conversation_count AS conversation_count, c.metric_message_count AS message_count,
       c.metric_first_contact_at AS first_contact_at, c.metric_last_contact_at AS last_contact_at,
       c.metric_last_message_preview AS last_message_preview
  FROM customers c`;
const LIST = `
SELECT c.id, c.company_id, c.external_id, c.name, c.email, c.phone, c.address, c.notes, c.attributes,
       c.lifecycle_stage, c.tags, c.source, c.status, c.merged_into_customer_id, c.deleted_at, c.created_at,
       c.updated_at, c.created_by, c.updated_by, c.version,
       ${METRICS}
 WHERE c.company_id = $1 AND c.status = 'active'
 ORDER BY c.created_at DESC, c.id DESC
 LIMIT $2`;

const nullableString = { type: ['string', 'null'] };
const customer = {
  type: 'object',
  properties: {
    id: { type: 'string' }, company_id: { type: 'string' }, external_id: nullableString, name: nullableString,
    email: nullableString, phone: nullableString, address: nullableString, notes: nullableString,
    attributes: { type: 'object', additionalProperties: true }, lifecycle_stage: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } }, source: { type: 'string' }, status: { type: 'string' },
    merged_into_customer_id: nullableString, deleted_at: nullableString, created_at: { type: 'string' },
    updated_at: { type: 'string' }, created_by: nullableString, updated_by: nullableString, version: { type: 'integer' },
    metrics: {
      type: 'object',
      properties: {
        conversation_count: { type: 'integer' }, message_count: { type: 'integer' },
        first_contact_at: nullableString, last_contact_at: nullableString, last_message_preview: nullableString,
      },
    },
  },
};

const app = Fastify({ logger: false });
app.get('/v1/customers', {
  schema: {
    querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } } },
    response: { 200: { type: 'object', properties: { items: { type: 'array', items: customer } } } },
  },
}, async (req) => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query("SELECT set_config('app.company_id', $1, true)", [company]);
    const { rows } = await client.query(LIST, [company, req.query.limit]);
    await client.query('COMMIT');
    const iso = (t) => (t == null ? null : t.toISOString());
    return {
      items: rows.map((r) => ({
        ...r,
        deleted_at: iso(r.deleted_at), created_at: iso(r.created_at), updated_at: iso(r.updated_at),
        metrics: {
          conversation_count: r.conversation_count, message_count: r.message_count,
          first_contact_at: iso(r.first_contact_at), last_contact_at: iso(r.last_contact_at),
          last_message_preview: r.last_message_preview,
        },
      })),
    };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
});

await app.listen({ port: Number(process.env.PORT || 18181), host: '127.0.0.1' });
