// The unchanged @supabase/postgrest-js client against a real Tessera server serving the
// tour builder app. The server's URL and key come from TESSERA_URL and TESSERA_KEY
// (crates/server/tests/postgrest_js.rs starts the server and runs this suite).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PostgrestClient } from '@supabase/postgrest-js'

const URL = process.env.TESSERA_URL
const KEY = process.env.TESSERA_KEY
if (!URL || !KEY) {
  throw new Error('set TESSERA_URL and TESSERA_KEY (see crates/server/tests/postgrest_js.rs)')
}

const db = new PostgrestClient(`${URL}/rest/v1`, {
  headers: { apikey: KEY, Authorization: `Bearer ${KEY}` },
})

let projectId

test('insert one row and read it back with select()', async () => {
  const { data, error, status } = await db
    .from('projects')
    .insert({ name: 'Museum tour', slug: 'museum' })
    .select()
  assert.equal(error, null)
  assert.equal(status, 201)
  assert.equal(data.length, 1)
  assert.equal(data[0].slug, 'museum')
  assert.equal(data[0].production_presentation_visibility, 'public')
  projectId = data[0].id
})

test('insert an array of rows', async () => {
  const pages = ['entrance', 'hall', 'garden', 'roof'].map((slug, i) => ({
    projectId, name: slug[0].toUpperCase() + slug.slice(1), slug, sort_order: i,
  }))
  const { error, status } = await db.from('tour_pages').insert(pages)
  assert.equal(error, null)
  assert.equal(status, 201)
})

test('select with an embedded to-many relation, ordered inside', async () => {
  const { data, error } = await db
    .from('projects')
    .select('slug, pages:tour_pages_project(slug, sort_order)')
    .eq('slug', 'museum')
    .order('sort_order', { referencedTable: 'pages', ascending: false })
  assert.equal(error, null)
  assert.deepEqual(data[0].pages.map((p) => p.slug), ['roof', 'garden', 'hall', 'entrance'])
})

test('select with an embedded to-one relation', async () => {
  const { data, error } = await db
    .from('tour_pages')
    .select('slug, project:projects(slug)')
    .eq('slug', 'hall')
  assert.equal(error, null)
  assert.deepEqual(data, [{ slug: 'hall', project: { slug: 'museum' } }])
})

test('filters: gte, in, ilike, or, not', async () => {
  const base = () => db.from('tour_pages').select('slug').eq('projectId', projectId).order('slug')
  let r = await base().gte('sort_order', 2)
  assert.deepEqual(r.data.map((p) => p.slug), ['garden', 'roof'])
  r = await base().in('slug', ['hall', 'roof'])
  assert.deepEqual(r.data.map((p) => p.slug), ['hall', 'roof'])
  r = await base().ilike('name', 'g%')
  assert.deepEqual(r.data.map((p) => p.slug), ['garden'])
  r = await base().or('slug.eq.hall,sort_order.eq.0')
  assert.deepEqual(r.data.map((p) => p.slug), ['entrance', 'hall'])
  r = await base().not('slug', 'eq', 'hall')
  assert.deepEqual(r.data.map((p) => p.slug), ['entrance', 'garden', 'roof'])
})

test('order and range', async () => {
  const { data, error } = await db
    .from('tour_pages')
    .select('slug')
    .eq('projectId', projectId)
    .order('sort_order', { ascending: false })
    .range(1, 2)
  assert.equal(error, null)
  assert.deepEqual(data.map((p) => p.slug), ['garden', 'hall'])
})

test('count: exact, with and without rows', async () => {
  let r = await db.from('tour_pages').select('*', { count: 'exact', head: true }).eq('projectId', projectId)
  assert.equal(r.error, null)
  assert.equal(r.count, 4)
  assert.equal(r.data, null)
  r = await db.from('tour_pages').select('slug', { count: 'exact' }).eq('projectId', projectId).limit(1)
  assert.equal(r.count, 4)
  assert.equal(r.data.length, 1)
})

test('single() and maybeSingle()', async () => {
  let r = await db.from('projects').select('name').eq('slug', 'museum').single()
  assert.equal(r.error, null)
  assert.deepEqual(r.data, { name: 'Museum tour' })
  r = await db.from('tour_pages').select('slug').eq('projectId', projectId).single()
  assert.equal(r.status, 406)
  assert.equal(r.error.code, 'PGRST116')
  r = await db.from('projects').select('name').eq('slug', 'nothing').maybeSingle()
  assert.equal(r.error, null)
  assert.equal(r.data, null)
})

test('upsert merges on a unique column', async () => {
  const { data, error } = await db
    .from('projects')
    .upsert({ name: 'Museum tour (new)', slug: 'museum' }, { onConflict: 'slug' })
    .select('id, name')
  assert.equal(error, null)
  assert.deepEqual(data, [{ id: projectId, name: 'Museum tour (new)' }])
})

test('update with a filter returns the rows', async () => {
  const { data, error, status } = await db
    .from('tour_pages')
    .update({ name: 'Great hall' })
    .eq('slug', 'hall')
    .select('slug, name')
    .single()
  assert.equal(error, null)
  assert.equal(status, 200)
  assert.deepEqual(data, { slug: 'hall', name: 'Great hall' })
})

test('delete soft-deletes: the row disappears from reads', async () => {
  const { error, status } = await db.from('tour_pages').delete().eq('slug', 'roof')
  assert.equal(error, null)
  assert.equal(status, 204)
  const r = await db.from('tour_pages').select('slug').eq('slug', 'roof')
  assert.deepEqual(r.data, [])
})

test('errors: unique conflict', async () => {
  const { error, status } = await db.from('projects').insert({ name: 'Again', slug: 'museum' })
  assert.equal(status, 409)
  assert.equal(error.code, '23505')
  assert.match(JSON.stringify(error), /slug/)
})

test('errors: validation names every failing field', async () => {
  const { error, status } = await db.from('projects').insert({ name: '', slug: 'bad slug!' })
  assert.equal(status, 422)
  assert.ok(error.message)
  assert.match(JSON.stringify(error), /name/)
  assert.match(JSON.stringify(error), /slug/)
})

test('errors: unknown table and column', async () => {
  let r = await db.from('nowhere').select()
  assert.equal(r.status, 404)
  assert.equal(r.error.code, 'PGRST205')
  r = await db.from('projects').select('nope')
  assert.equal(r.status, 404)
  assert.match(r.error.message, /nope/)
})

test('errors: malformed filter', async () => {
  const r = await db.from('projects').select().filter('name', 'zz', 'x')
  assert.equal(r.status, 400)
  assert.equal(r.error.code, 'PGRST100')
})

test('errors: no key is 401', async () => {
  const anonymous = new PostgrestClient(`${URL}/rest/v1`)
  const r = await anonymous.from('roles').select()
  assert.equal(r.status, 401)
  assert.ok(r.error.message)
})
