#!/usr/bin/env node
// kafkajs (the version pinned in package-lock.json) driven by idem's interop tests
// (tests/tests/broker_kafkajs_groups.rs), which install it with `npm ci` and run this script.
//
//   node interop.js ROLE key=value...
//
// Roles (every one takes brokers=HOST:PORT[,HOST:PORT...]):
//   produce topic= partitions= from= to= [chunk=100] [pause=0]
//       kafkajs's idempotent producer (idempotent: true, maxInFlightRequests: 1, acks -1) sends
//       records from..to-1, record n to partition n % partitions with value n, `chunk` records
//       per send(), `pause` ms between sends; one `sent` line per partition of each send.
//   member topic= group= member= [limit=N] [session=6000] [heartbeat=500] [rebalance=10000]
//       a consumer of the group (subscribe + run with eachBatch, autoCommit off): every batch is
//       printed record by record, then its end committed with an explicit, awaited commit
//       before eachBatch returns (so before kafkajs's next heartbeat can start a rejoin); a
//       commit that fails is printed (ok: false) and not retried. With
//       `limit`, it reads that many records (the last batch cut short and committed where it
//       stopped), prints `limited`, and reads nothing more.
//       Commands on stdin: `nocommit` (read on, commit nothing more), `freeze` (read nothing
//       more; `frozen` once no batch is in progress), `leave` (finish the batch in progress,
//       then disconnect: LeaveGroup; `left`). Exits when stdin closes.
//   offsets topic= group=    the group's committed offsets (admin fetchOffsets).
//   describe group=          ListGroups and DescribeGroups (admin listGroups, describeGroups).
//
// Every line on stdout is one JSON object: `t` (process.hrtime.bigint(): the system's monotonic
// clock in ns, one clock for every process of the machine, so that lines of several processes
// merge in the order they happened), `ev` (what happened) and its fields. kafkajs's log goes to
// stderr (level from IDEM_KAFKAJS_LOG: error, warn, info or debug; error by default).
'use strict'

const { Kafka, logLevel, Partitioners, AssignerProtocol } = require('kafkajs')
const readline = require('readline')

const [role, ...rest] = process.argv.slice(2)
const opt = Object.fromEntries(
  rest.map(a => {
    const i = a.indexOf('=')
    if (i < 0) fail(`argument ${a}: expected key=value`)
    return [a.slice(0, i), a.slice(i + 1)]
  })
)

function fail(message) {
  process.stderr.write(`interop.js: ${message}\n`)
  process.exit(2)
}

function need(key) {
  if (!(key in opt)) fail(`${role}: missing ${key}=`)
  return opt[key]
}

function num(key, dflt) {
  if (!(key in opt) && dflt !== undefined) return dflt
  const v = Number(need(key))
  if (!Number.isFinite(v)) fail(`${role}: ${key}= must be a number`)
  return v
}

/** One JSON line on stdout (synchronous on a pipe on Linux: written before the next request). */
function out(ev, fields = {}) {
  process.stdout.write(JSON.stringify({ t: process.hrtime.bigint().toString(), ev, ...fields }) + '\n')
}

const LEVELS = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG }

/** A kafkajs client; `onLog(namespace, message)` sees each of its log entries first. */
function client(clientId, onLog = () => {}) {
  const level = LEVELS[process.env.IDEM_KAFKAJS_LOG || 'error']
  return new Kafka({
    clientId,
    brokers: need('brokers').split(','),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 50, maxRetryTime: 1000, retries: 15 },
    logLevel: level === undefined ? logLevel.ERROR : level,
    logCreator: () => ({ namespace, label, log }) => {
      const { message, timestamp, logger, ...extra } = log
      onLog(namespace, message)
      process.stderr.write(`kafkajs ${clientId} ${label} [${namespace}] ${message} ${JSON.stringify(extra)}\n`)
    },
  })
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function produce() {
  const topic = need('topic')
  const partitions = num('partitions')
  const [from, to] = [num('from'), num('to')]
  const [chunk, pause] = [num('chunk', 100), num('pause', 0)]
  const producer = client('producer').producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  for (let start = from; start < to; start += chunk) {
    const messages = []
    const first = new Map()
    for (let n = start; n < Math.min(to, start + chunk); n++) {
      const partition = n % partitions
      if (!first.has(partition)) first.set(partition, { n, count: 0 })
      first.get(partition).count++
      messages.push({ partition, value: String(n) })
    }
    const metadata = await producer.send({ topic, acks: -1, messages })
    for (const m of metadata) {
      const { n, count } = first.get(m.partition)
      out('sent', { p: m.partition, base: Number(m.baseOffset), first: n, count, error: m.errorCode })
    }
    if (pause > 0) await sleep(pause)
  }
  await producer.disconnect()
  out('produced', { count: to - from })
}

async function member() {
  const topic = need('topic')
  const id = need('member')
  // kafkajs's consumer, crashing, logs `Crash: ...` and then disconnects (LeaveGroup) before
  // it emits CRASH: the revocation is printed at the log line, before the LeaveGroup.
  const onLog = (namespace, message) => {
    if (namespace === 'Consumer' && message.startsWith('Crash')) revokeAll('crash')
  }
  const consumer = client(`m${id}`, onLog).consumer({
    groupId: need('group'),
    sessionTimeout: num('session', 6000),
    heartbeatInterval: num('heartbeat', 500),
    rebalanceTimeout: num('rebalance', 10000),
    maxWaitTimeInMs: 100,
    retry: { initialRetryTime: 50, maxRetryTime: 1000, retries: 15 },
  })
  const owned = new Set()
  const limit = num('limit', Infinity)
  let reads = 0
  let [commits, frozen, leaving] = [true, false, false]
  // Batches in progress, and who waits for there to be none.
  let busy = 0
  let idle = []
  const whenIdle = () => (busy === 0 ? Promise.resolve() : new Promise(resolve => idle.push(resolve)))
  const revokeAll = why => {
    for (const p of [...owned].sort((a, b) => a - b)) {
      owned.delete(p)
      out('revoked', { p, why })
    }
  }

  const { REBALANCING, GROUP_JOIN, CRASH } = consumer.events
  // kafkajs emits REBALANCING when its fetch loop has stopped (no batch in progress) on
  // REBALANCE_IN_PROGRESS, NOT_COORDINATOR or ILLEGAL_GENERATION, and then rejoins: the eager
  // protocol's revocation of everything the member owned.
  consumer.on(REBALANCING, () => revokeAll('rebalancing'))
  consumer.on(CRASH, e => out('crash', { error: String(e.payload.error), restart: e.payload.restart }))
  consumer.on(GROUP_JOIN, e => {
    const { isLeader, groupProtocol, memberId, memberAssignment } = e.payload
    // A rejoin that did not announce itself (UNKNOWN_MEMBER_ID: the coordinator had removed
    // the member) revokes here, late: the journal's check would then see two owners.
    revokeAll('unannounced')
    out('joined', { leader: isLeader, protocol: groupProtocol, member_id: memberId })
    // A member that reads nothing more owns nothing more.
    if (frozen || leaving) return
    for (const p of [...(memberAssignment[topic] || [])].sort((a, b) => a - b)) {
      owned.add(p)
      out('assigned', { p })
    }
  })

  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', async line => {
    switch (line.trim()) {
      case 'nocommit':
        commits = false
        out('nocommit')
        break
      case 'freeze':
        frozen = true
        await whenIdle()
        out('frozen')
        break
      case 'leave':
        leaving = true
        await whenIdle()
        revokeAll('leave')
        await consumer.disconnect()
        out('left')
        process.exit(0)
        break
      default:
        fail(`member: unknown command ${JSON.stringify(line)}`)
    }
  })
  lines.on('close', () => process.exit(1))

  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, commitOffsetsIfNecessary }) => {
      if (frozen || leaving || reads >= limit || batch.messages.length === 0) return
      busy++
      try {
        const p = batch.partition
        // After a rejoin that failed (an error kafkajs does not retry within joinAndSync, such
        // as COORDINATOR_LOAD_IN_PROGRESS), kafkajs starts its fetch loop again with the
        // assignment it had: no other member can have it before this one rejoins or its
        // session ends, and the journal's check sees that.
        if (!owned.has(p)) {
          owned.add(p)
          out('assigned', { p, why: 'resumed' })
        }
        const messages = batch.messages.slice(0, limit - reads)
        for (const m of messages) {
          out('read', { p, o: Number(m.offset), n: Number(m.value.toString()) })
        }
        reads += messages.length
        if (reads >= limit) out('limited')
        if (!commits) return
        const next = Number(messages[messages.length - 1].offset) + 1
        const offsets = { topics: [{ topic, partitions: [{ partition: p, offset: String(next) }] }] }
        // A failed commit is printed and left at that (not thrown: kafkajs would deliver the
        // batch again); the next batch's commit covers it, and a rebalance that failed it
        // shows at kafkajs's next heartbeat.
        try {
          await commitOffsetsIfNecessary(offsets)
          out('commit', { p, o: next, ok: true })
        } catch (e) {
          out('commit', { p, o: next, ok: false, error: e.type || String(e) })
        }
      } finally {
        busy--
        if (busy === 0) idle.splice(0).forEach(resolve => resolve())
      }
    },
  })
  out('running')
}

async function offsets() {
  const admin = client('offsets').admin()
  await admin.connect()
  const topics = await admin.fetchOffsets({ groupId: need('group'), topics: [need('topic')] })
  for (const { partitions } of topics) {
    for (const { partition, offset } of partitions) out('offset', { p: partition, o: Number(offset) })
  }
  await admin.disconnect()
}

async function describe() {
  const admin = client('describe').admin()
  await admin.connect()
  const group = need('group')
  const { groups: listed } = await admin.listGroups()
  out('listed', { groups: listed.map(g => g.groupId).sort() })
  const { groups } = await admin.describeGroups([group])
  for (const g of groups) {
    const members = g.members.map(m => {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
      return { client_id: m.clientId, assignment: decoded ? decoded.assignment : null }
    })
    out('group', { group: g.groupId, state: g.state, protocol_type: g.protocolType, protocol: g.protocol, members })
  }
  await admin.disconnect()
}

const roles = { produce, member, offsets, describe }
if (!roles[role]) fail(`unknown role ${JSON.stringify(role)}: one of ${Object.keys(roles).join(', ')}`)
roles[role]().catch(e => {
  process.stderr.write(`interop.js ${role}: ${e.stack || e}\n`)
  process.exit(1)
})
