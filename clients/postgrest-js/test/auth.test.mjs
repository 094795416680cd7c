// The unchanged @supabase/supabase-js client (its auth client and its REST client together)
// against a real Tessera server serving the tour builder app, whose `users` model is the
// account model. The server's URL and anonymous key come from TESSERA_URL and
// TESSERA_ANON_KEY (crates/server/tests/postgrest_js.rs starts the server and runs this).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createClient } from '@supabase/supabase-js'

const URL = process.env.TESSERA_URL
const ANON_KEY = process.env.TESSERA_ANON_KEY
const SERVICE_KEY = process.env.TESSERA_KEY
if (!URL || !ANON_KEY || !SERVICE_KEY) {
  throw new Error('set TESSERA_URL, TESSERA_ANON_KEY and TESSERA_KEY (see crates/server/tests/postgrest_js.rs)')
}

// What the administrator does with the service key: grants a permission.
const asService = async (model, row) => {
  const response = await fetch(`${URL}/rest/v1/${model}`, {
    method: 'POST',
    headers: {
      apikey: SERVICE_KEY,
      Authorization: `Bearer ${SERVICE_KEY}`,
      'Content-Type': 'application/json',
      Prefer: 'return=representation',
    },
    body: JSON.stringify(row),
  })
  assert.equal(response.status, 201)
  return (await response.json())[0]
}

// Tessera serves no realtime channels; supabase-js still builds its realtime client, which
// on Node before 22 finds no native WebSocket. This transport is never opened here.
class NoRealtime {
  constructor() {
    throw new Error('Tessera serves no realtime channels')
  }
}

const client = () =>
  createClient(URL, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoRealtime },
  })

const PASSWORD = 'correct horse battery'
const supabase = client()
let user

test('signUp answers a session and the new user with its profile fields', async () => {
  const { data, error } = await supabase.auth.signUp({
    email: 'ann@example.com',
    password: PASSWORD,
    options: { data: { firstName: ' Ann ' } },
  })
  assert.equal(error, null)
  assert.ok(data.session?.access_token, 'an access token')
  assert.ok(data.session?.refresh_token, 'a refresh token')
  assert.equal(data.user.email, 'ann@example.com')
  assert.equal(data.user.firstName, 'Ann', 'the schema trims first names')
  assert.equal(data.user.password, undefined, 'the password is never answered')
  user = data.user
})

test('rows written through the signed-in client record the user as creator', async () => {
  // Creating projects takes the CREATE_PROJECTS permission, granted by the administrator.
  const permission = await asService('permissions', { name: 'CREATE_PROJECTS' })
  await asService('usersCustom_permissionsPermissions', { userId: user.id, permissionId: permission.id })
  const { data, error, status } = await supabase
    .from('projects')
    .insert({ name: 'Castle tour', slug: 'castle' })
    .select('slug, createdById, updatedById')
  assert.equal(error, null)
  assert.equal(status, 201)
  assert.deepEqual(data, [{ slug: 'castle', createdById: user.id, updatedById: user.id }])
})

test('getUser answers the signed-in account', async () => {
  const { data, error } = await supabase.auth.getUser()
  assert.equal(error, null)
  assert.equal(data.user.id, user.id)
})

test('signInWithPassword and refreshSession give working sessions', async () => {
  const other = client()
  const signIn = await other.auth.signInWithPassword({ email: 'ann@example.com', password: PASSWORD })
  assert.equal(signIn.error, null)
  assert.equal(signIn.data.user.id, user.id)
  const refreshed = await other.auth.refreshSession()
  assert.equal(refreshed.error, null)
  assert.notEqual(refreshed.data.session.refresh_token, signIn.data.session.refresh_token)
  const { data, error } = await other.from('projects').select('slug')
  assert.equal(error, null)
  assert.deepEqual(data, [{ slug: 'castle' }])
})

test('updateUser changes the password and the profile', async () => {
  const other = client()
  const signIn = await other.auth.signInWithPassword({ email: 'ann@example.com', password: PASSWORD })
  assert.equal(signIn.error, null)
  const { data, error } = await other.auth.updateUser({
    password: 'a brand new password',
    data: { lastName: 'Smith' },
  })
  assert.equal(error, null)
  assert.equal(data.user.lastName, 'Smith')
  const withNew = await client().auth.signInWithPassword({
    email: 'ann@example.com',
    password: 'a brand new password',
  })
  assert.equal(withNew.error, null)
  // Later tests sign in with the first password again.
  const back = await other.auth.updateUser({ password: PASSWORD })
  assert.equal(back.error, null)
})

test('a wrong password is an AuthApiError with status 400', async () => {
  const { data, error } = await client().auth.signInWithPassword({
    email: 'ann@example.com',
    password: 'not the password',
  })
  assert.equal(data.session, null)
  assert.equal(error.status, 400)
  assert.equal(error.message, 'Invalid login credentials')
})

test('without a session the anonymous key reads no accounts', async () => {
  const { error, status } = await client().from('users').select('email')
  assert.equal(status, 401)
  assert.equal(error.code, '42501')
})

test('without a session the anonymous key reads public presentations only', async () => {
  const { data, error } = await client().from('projects').select('slug, tour_pages_project(slug)')
  assert.equal(error, null)
  assert.deepEqual(data, [{ slug: 'castle', tour_pages_project: [] }])
})

test('signOut ends the session: its refresh token stops working', async () => {
  const other = client()
  const signIn = await other.auth.signInWithPassword({ email: 'ann@example.com', password: PASSWORD })
  assert.equal(signIn.error, null)
  const refreshToken = signIn.data.session.refresh_token
  const { error } = await other.auth.signOut()
  assert.equal(error, null)
  const again = await client().auth.refreshSession({ refresh_token: refreshToken })
  assert.equal(again.data.session, null)
  assert.equal(again.error.status, 400)
})
