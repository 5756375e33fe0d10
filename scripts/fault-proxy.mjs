// A fault-injecting HTTP proxy for the tests: it sits between the action (or any AWS SDK client) and
// the local emulator (moto), forwards every call, records it, and – per call, per rule, or at random
// with a seed – answers instead the way AWS answers when things go wrong. Types: scripts/fault-proxy.d.mts.
//
//   const proxy = await startFaultProxy({ target: 'http://127.0.0.1:5079', seed: 7, revisions: true,
//     rules: [{ operation: 'UpdateFunctionConfiguration', functionName: 'orders-api', nth: 1, fault: 'throttle' }] })
//   ... AWS_ENDPOINT_URL=proxy.url ...
//   proxy.calls   // every call: time, method, path, service, operation, functionName, status, fault
//
// What each fault answers (the SDK turns these into the named exceptions, as with the real services):
//
//   fault               Lambda (REST JSON)                  CloudWatch Logs (JSON 1.1)       STS / IAM (query, XML)
//   throttle            429 ThrottlingException             400 ThrottlingException          400 Throttling
//   too-many-requests   429 TooManyRequestsException +      400 TooManyRequestsException*    400 TooManyRequests*
//                       Reason CallerRateLimitExceeded, Retry-After: 1
//   500                 500 ServiceException                500 InternalFailure              500 InternalFailure
//   503                 503 ServiceUnavailableException     503 ServiceUnavailableException  503 ServiceUnavailable
//   conflict            409 ResourceConflictException       409 ResourceConflictException*   409 ConcurrentModification
//   precondition        412 PreconditionFailedException     412 PreconditionFailedException* 412 PreconditionFailed*
//   invalid-parameter   400 InvalidParameterValueException  400 InvalidParameterException    400 InvalidParameterValue
//   (* not something that service sends; there for completeness)
//   reset               the TCP connection is reset (RST) without an answer: the SDK sees ECONNRESET
//   delay               the answer is held for delayMs (default 60 s), e.g. past the client's requestTimeout
//   update-failed       UpdateFunctionConfiguration only: the update is applied, then its answer says
//                       LastUpdateStatus InProgress (or Failed at once with `immediate`), and every later read
//                       of the function (GetFunctionConfiguration, GetFunction) says LastUpdateStatus Failed
//                       with `reason` / `reasonCode` – until the next update of that function goes through
//   function-error      Invoke only: the invocation is made, then answered 200 with X-Amz-Function-Error: Unhandled,
//                       X-Amz-Log-Result (the base64 `logTail`) and an error payload, as for a handler that threw
//   log-tail            Invoke only: the invocation is made and its answer kept, with X-Amz-Log-Result set to the
//                       base64 `logTail`, each {requestId} in it replaced by the answer's request id (moto sends
//                       no log): a tail with Lambda's REPORT line for the invocation, as Lambda's would end
//   environment-too-large
//                       UpdateFunctionConfiguration only, not forwarded: 400 InvalidParameterValueException with
//                       Lambda's own message for variables over 4 KB, which echoes the requested variables as JSON
//   pass                forwarded as is (a rule that only calls `before`, or only counts)
//
// `forward: true` on an error fault or `reset` lets the call reach the emulator first, so that the write
// happens and only its answer is lost or replaced; `delay` forwards first unless `forward: false`.
//
// With `revisions: true` the proxy gives Lambda functions the RevisionId moto lacks: reads, listings
// and updates carry a RevisionId derived from the configuration moto holds (so a change made behind
// the proxy's back, directly in moto, changes it too) and from the number of updates made through the
// proxy; an UpdateFunctionConfiguration carrying another RevisionId is answered 412
// PreconditionFailedException without being forwarded, as Lambda does. Listings, as Lambda's, carry no
// State or LastUpdateStatus (moto's do).
//
// With `pendingReads: n` updates take time, as on Lambda (moto finishes them at once): an update's answer
// says LastUpdateStatus InProgress, so do the next n reads of the function, and another update of it
// meanwhile is answered 409 ResourceConflictException (recorded as fault `update-in-progress`).
//
// With `envelope: true` (or an object of overrides, see scripts/aws-envelope.d.mts) the proxy holds the calls
// to AWS's published envelope, whose figures and their AWS pages are in scripts/aws-envelope.mjs:
// - rates per (account, Region, API class): Lambda's control plane 15/s (all its APIs but Invoke, GetFunction,
//   GetPolicy, together), GetFunction 100/s, GetPolicy 15/s, DescribeLogStreams 5/s, CreateLogStream 50/s, from
//   token buckets of one second's capacity (`rates`, `burst`). A call over the rate is answered as AWS does –
//   Lambda 429 TooManyRequestsException with Retry-After, CloudWatch Logs 400 ThrottlingException – and
//   recorded with fault `quota`; every call is recorded with its `apiClass`, so that calls and throttles can
//   be counted per class. Refused calls reach neither the rules nor the emulator.
// - `extraThrottle: 0.2`: besides, each Lambda and CloudWatch Logs call but Invoke is throttled with that
//   probability, drawn from the seed as the rules' draws are (fault `extra-throttle`). Like any refusal it
//   takes nothing from the bucket, unless `extraThrottleTakesToken: true` (the account's other tools took it).
// - settling by wall time (`settleMs`, default 2000): an update's answer and every read of that function say
//   LastUpdateStatus InProgress until settleMs after it; another update meanwhile is answered 409
//   ResourceConflictException (fault `update-in-progress`). This replaces `pendingReads`' count of reads.
// - DescribeLogStreams is answered by the proxy from moto's whole listing, as CloudWatch answers it: prefix,
//   orderBy (LastEventTime on the shown values), descending, limit (1–50), nextToken, and InvalidParameter-
//   Exception for a prefix with orderBy LastEventTime. A stream's event times (firstEventTimestamp,
//   lastEventTimestamp, lastIngestionTime) show only `logTimestampLagMs` (default 1 h) after its last event;
//   until then it shows the values it showed before, or none – creationTime is there at once.
// - ListFunctions is paged by 50 (MaxItems, Marker/NextMarker) and, as on Lambda, carries no State or
//   LastUpdateStatus.
// - `invokeWritesLogs` (names, a predicate or true): a successful Invoke of such a function writes START/END/
//   REPORT lines to its log group (LoggingConfig.LogGroup, else /aws/lambda/<name>), in a stream named as
//   Lambda names it (`YYYY/MM/DD/[$LATEST]<32 hex>`, UTC), one per execution environment – a new one after
//   each configuration update through the proxy. moto writes no logs on Invoke.
//
// Rules are tried in order; the first that fires decides the call. A rule matches a call by service,
// operation, functionName (the function's name, also when the call names it by ARN; for CloudWatch Logs
// the `<name>` of a `/aws/lambda/<name>` log group), region, layerName and withLayer (a Lambda call about a
// function that carries, at the time of the call as the emulator says, a layer version whose ARN contains
// this text: e.g. `function-error` on Invoke of every function with a new layer version); omitted filters
// match anything.
// Of the calls it matches, it fires on the `nth` only (1-based) or on every one, at most `times` times,
// and each with `probability` (default 1). Random draws come from the seed, the rule's position, and which
// call of that operation on that function or layer it is – so the same seed gives the same faults to the
// same calls whatever order concurrent callers' calls arrive in. `fault` may be a list: one is then picked
// at random (seeded) each time the rule fires.
import { createHash, randomUUID } from 'node:crypto'
import http from 'node:http'
import {
  apiClassOf,
  createEnvelopeIo,
  createExtraThrottle,
  createRateLimiter,
  describeStreamsRequest,
  envelopeSettings,
  laggedStream,
  pageOfFunctions,
  pageOfStreams,
  streamQueryKey
} from './aws-envelope.mjs'

/** Every fault a rule can inject. */
export const FAULTS = Object.freeze([
  'throttle',
  'too-many-requests',
  '500',
  '503',
  'conflict',
  'precondition',
  'reset',
  'delay',
  'update-failed',
  'function-error',
  'log-tail',
  'invalid-parameter',
  'environment-too-large',
  'pass'
])

/** Name and HTTP status of each error fault, per protocol. */
const ERROR_FAULTS = {
  throttle: {
    restJson: [429, 'ThrottlingException'],
    json: [400, 'ThrottlingException'],
    query: [400, 'Throttling'],
    message: 'Rate exceeded',
    type: 'User'
  },
  'too-many-requests': {
    restJson: [429, 'TooManyRequestsException'],
    json: [400, 'TooManyRequestsException'],
    query: [400, 'TooManyRequests'],
    message: 'Rate exceeded',
    type: 'User',
    extra: { Reason: 'CallerRateLimitExceeded' }
  },
  500: {
    restJson: [500, 'ServiceException'],
    json: [500, 'InternalFailure'],
    query: [500, 'InternalFailure'],
    message: 'We encountered an internal error. Please try again.',
    type: 'Service'
  },
  503: {
    restJson: [503, 'ServiceUnavailableException'],
    json: [503, 'ServiceUnavailableException'],
    query: [503, 'ServiceUnavailable'],
    message: 'Service unavailable. Try again later.',
    type: 'Service'
  },
  conflict: {
    restJson: [409, 'ResourceConflictException'],
    json: [409, 'ResourceConflictException'],
    query: [409, 'ConcurrentModification'],
    message: (call) =>
      `The operation cannot be performed at this time. An update is in progress for resource: ${resourceArn(call)}`,
    type: 'User'
  },
  'invalid-parameter': {
    restJson: [400, 'InvalidParameterValueException'],
    json: [400, 'InvalidParameterException'],
    query: [400, 'InvalidParameterValue'],
    message: 'One or more parameters are not valid.',
    type: 'User'
  },
  precondition: {
    restJson: [412, 'PreconditionFailedException'],
    json: [412, 'PreconditionFailedException'],
    query: [412, 'PreconditionFailed'],
    message:
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    type: 'User'
  }
}

// Lambda's answer to variables over 4 KB quotes the variables it measured: a service error that carries secrets.
const ENVIRONMENT_TOO_LARGE =
  'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: '
const DEFAULT_DELAY_MS = 60_000
const DEFAULT_ACCOUNT = '123456789012'
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
  'accept-encoding',
  'host'
])
const STS_ACTIONS =
  /^(AssumeRole|GetCallerIdentity|GetSessionToken|GetFederationToken|DecodeAuthorizationMessage|GetAccessKeyInfo)/

/** Starts the proxy on 127.0.0.1 (port 0: any free one); resolves once it listens. */
export async function startFaultProxy(options) {
  if (!options || typeof options.target !== 'string')
    throw new Error('startFaultProxy: target (the emulator URL) is required')
  const target = new URL(options.target)
  if (target.protocol !== 'http:')
    throw new Error(`startFaultProxy: target must be an http:// URL, not ${options.target}`)
  const seed = options.seed ?? 1
  const latencyMs = options.latencyMs ?? 0
  const revisions = options.revisions === true
  const pendingReads = options.pendingReads ?? 0
  if (!Number.isInteger(pendingReads) || pendingReads < 0)
    throw new Error('startFaultProxy: pendingReads must be a whole number ≥ 0')
  const envelope = envelopeSettings(options.envelope)
  const limiter = envelope && createRateLimiter(envelope)
  const extraThrottle = envelope && createExtraThrottle(envelope, seed)
  /** Per stream ("account/region/group/stream"): the event times DescribeLogStreams last showed. */
  const shownStreams = new Map()

  let rules = checkRules(options.rules ?? [])
  /** Per rule: how many calls it matched, how often it fired, and matches per call key (for the draws). */
  let counters = rules.map(newCounter)
  /** Per function ("region/name"): updates made through the proxy, a failed update it pretends, reads left InProgress. */
  let functions = new Map()
  const updateLocks = new Map()
  const calls = []
  let seq = 0
  const sockets = new Set()
  const timers = new Set()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  let closed = false

  const stateOf = (key) => {
    let state = functions.get(key)
    if (!state) functions.set(key, (state = { generation: 0, failed: null, pending: 0, settleUntil: 0 }))
    return state
  }
  /** Under the envelope, whether the function's last update is still being applied (by wall time). */
  const settling = (state) => envelope !== null && envelope.clock() < state.settleUntil

  const sleep = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  /** Sends a request to the emulator and collects the whole answer. */
  const upstreamRequest = (method, path, headers, body) =>
    new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: target.hostname,
          port: target.port || 80,
          method,
          path,
          agent,
          headers: { ...headers, host: target.host, 'content-length': String(body.length) }
        },
        (response) => {
          const chunks = []
          response.on('data', (chunk) => chunks.push(chunk))
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 502,
              headers: { ...response.headers },
              body: Buffer.concat(chunks)
            })
          )
          response.on('error', reject)
        }
      )
      request.on('error', reject)
      request.end(body)
    })

  const envelopeIo = envelope && createEnvelopeIo(envelope, upstreamRequest)

  /** The layer version ARNs the call's function carries now, as the emulator has it; none when it cannot tell. */
  const currentLayers = async (call, req) => {
    const answer = await upstreamRequest(
      'GET',
      configurationPath(call),
      forwardHeaders(req.headers),
      Buffer.alloc(0)
    ).catch(() => undefined)
    const config = answer?.status === 200 ? parseJson(answer.body) : undefined
    return (config?.Layers ?? []).map((layer) => String(layer.Arn ?? ''))
  }

  /** Forwards the call, adding what moto lacks: RevisionId and a pretended failed update. */
  const upstream = async (call, req, body, { failUpdate } = {}) => {
    const headers = forwardHeaders(req.headers)
    if (envelope && call.service === 'logs' && call.operation === 'DescribeLogStreams')
      return describeLogStreams(call, body)
    if (call.service === 'lambda' && call.operation === 'ListFunctions') return listFunctions(call, req, headers, body)
    if (call.service !== 'lambda' || !call.functionKey) {
      return forwarded(call, () => upstreamRequest(req.method, req.url, headers, body))
    }
    const state = stateOf(call.functionKey)
    if (call.operation === 'UpdateFunctionConfiguration') {
      // One update of a function at a time, so that the revision check and the write belong together.
      const previous = updateLocks.get(call.functionKey) ?? Promise.resolve()
      let release
      const mine = new Promise((resolve) => (release = resolve))
      const chained = previous.then(() => mine)
      updateLocks.set(call.functionKey, chained)
      await previous
      try {
        if (state.pending > 0 || settling(state)) {
          call.inProgress = true
          return errorAnswer('conflict', call)
        }
        if (revisions) {
          const wanted = parseJson(body)?.RevisionId
          if (wanted) {
            const current = await upstreamRequest('GET', configurationPath(call), headers, Buffer.alloc(0)).catch(
              () => undefined
            )
            const config = current?.status === 200 ? parseJson(current.body) : undefined
            if (config && revisionOf(config, state.generation) !== wanted) {
              call.revisionMismatch = true
              return errorAnswer('precondition', call)
            }
          }
        }
        const answer = await forwarded(call, () => upstreamRequest(req.method, req.url, headers, body))
        if (answer.status < 200 || answer.status >= 300) return answer
        state.generation++
        state.failed = failUpdate ? { reason: failUpdate.reason, reasonCode: failUpdate.reasonCode } : null
        state.pending = failUpdate || envelope ? 0 : pendingReads
        if (envelope && !failUpdate) state.settleUntil = envelope.clock() + envelope.settleMs
        return rewriteJson(answer, (config) => {
          decorate(config, state, false)
          if ((failUpdate && !failUpdate.immediate) || state.pending > 0 || settling(state)) {
            config.LastUpdateStatus = 'InProgress'
            delete config.LastUpdateStatusReason
            delete config.LastUpdateStatusReasonCode
          }
          return config
        })
      } finally {
        release()
        if (updateLocks.get(call.functionKey) === chained) updateLocks.delete(call.functionKey)
      }
    }
    const answer = await forwarded(call, () => upstreamRequest(req.method, req.url, headers, body))
    if (call.operation === 'Invoke' && envelope?.writesLogsFor(call.functionName) && answer.status === 200)
      await envelopeIo.writeInvocationLogs(call, state.generation)
    if (answer.status !== 200) return answer
    if (call.operation === 'GetFunctionConfiguration') return rewriteJson(answer, (config) => decorate(config, state))
    if (call.operation === 'GetFunction')
      return rewriteJson(answer, (whole) => {
        if (whole.Configuration) decorate(whole.Configuration, state)
        return whole
      })
    return answer
  }

  /** DescribeLogStreams as CloudWatch answers it: moto's whole listing, event times lagged, then ordered and paged. */
  const describeLogStreams = async (call, body) => {
    const params = parseJson(body) ?? {}
    const checked = describeStreamsRequest(params)
    if (checked.error) return errorAnswer('invalid-parameter', call, checked.error[1])
    const group =
      params.logGroupIdentifier !== undefined
        ? { logGroupIdentifier: params.logGroupIdentifier }
        : { logGroupName: params.logGroupName }
    const region = call.region ?? 'us-east-1'
    const listing = await envelopeIo.listWholeGroup(group, region, call.account).catch(upstreamFailure)
    if (listing.status !== undefined || listing.failure) {
      const failure = listing.failure ?? listing
      call.upstreamStatus = failure.status
      return failure
    }
    call.upstreamStatus = 200
    const now = envelope.clock()
    const groupId = `${call.account ?? DEFAULT_ACCOUNT}/${region}/${group.logGroupName ?? group.logGroupIdentifier}`
    const shown = listing.streams.map((stream) => {
      const key = `${groupId}/${stream.logStreamName}`
      const view = laggedStream(stream, shownStreams.get(key), now, envelope.logTimestampLagMs)
      if (view.remember) shownStreams.set(key, view.remember)
      return view.shown
    })
    const page = pageOfStreams(shown, checked.request, streamQueryKey(groupId, checked.request))
    if (page.error) return errorAnswer('invalid-parameter', call, page.error[1])
    return jsonAnswer(call, { logStreams: page.logStreams, ...(page.nextToken ? { nextToken: page.nextToken } : {}) })
  }

  /**
   * ListFunctions as Lambda answers it: each configuration with the same emulated RevisionId as a read, without
   * the fields only GetFunction returns (State, LastUpdateStatus and their reasons:
   * https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html), which moto lists too; under the
   * envelope also paged as Lambda pages it (moto answers all at once).
   */
  const listFunctions = async (call, req, headers, body) => {
    const answer = await forwarded(call, () => upstreamRequest(req.method, req.url, headers, body))
    const all = answer.status === 200 ? parseJson(answer.body)?.Functions : undefined
    if (!Array.isArray(all)) return answer
    for (const config of all) {
      for (const field of STATUS_FIELDS) delete config[field]
      if (revisions)
        config.RevisionId = revisionOf(config, stateOf(`${call.region ?? ''}/${config.FunctionName}`).generation)
    }
    if (!envelope) return rewriteJson(answer, (page) => ({ ...page, Functions: all }))
    const query = new URL(req.url ?? '/', 'http://proxy.invalid').searchParams
    const page = pageOfFunctions(all, query, envelope.listFunctionsPageSize)
    if (page.error) return errorAnswer('invalid-parameter', call, page.error[1])
    return jsonAnswer(call, page)
  }

  /** The envelope's refusal of a call over its class's rate, or drawn by the extra throttling; null to let it on. */
  const admit = (call, record) => {
    const apiClass = record.apiClass
    if (!apiClass) return null
    const fault = call.service === 'lambda' ? 'too-many-requests' : 'throttle'
    // Drawn before the bucket unless the draw stands for another tool's call that took the token.
    if (!envelope.extraThrottleTakesToken && extraThrottle.refuses(call, apiClass)) {
      record.fault = 'extra-throttle'
      return errorAnswer(fault, call, undefined, 1)
    }
    const retryAfter = limiter.take(call.account ?? DEFAULT_ACCOUNT, call.region ?? 'us-east-1', apiClass)
    const drawn = retryAfter === null && envelope.extraThrottleTakesToken && extraThrottle.refuses(call, apiClass)
    if (retryAfter === null && !drawn) return null
    record.fault = retryAfter === null ? 'extra-throttle' : 'quota'
    return errorAnswer(fault, call, undefined, retryAfter ?? 1)
  }

  /** Gives a configuration moto returned its emulated RevisionId and pretended update status. */
  const decorate = (config, state, read = true) => {
    if (revisions) config.RevisionId = revisionOf(config, state.generation)
    if (read && (state.pending > 0 || settling(state))) {
      if (state.pending > 0) state.pending--
      config.LastUpdateStatus = 'InProgress'
      delete config.LastUpdateStatusReason
      delete config.LastUpdateStatusReasonCode
    } else if (state.failed) {
      config.LastUpdateStatus = 'Failed'
      config.LastUpdateStatusReason = state.failed.reason
      config.LastUpdateStatusReasonCode = state.failed.reasonCode
    }
    return config
  }

  /** Which rule fires for this call, and which fault it injects; counts the call for every rule it matches. */
  const choose = (call) => {
    let chosen
    for (let index = 0; index < rules.length; index++) {
      const rule = rules[index]
      if (!matches(rule, call)) continue
      const counter = counters[index]
      counter.matched++
      const key = callKey(call)
      const occurrence = (counter.perKey.get(key) ?? 0) + 1
      counter.perKey.set(key, occurrence)
      if (chosen) continue
      if (rule.nth !== undefined && counter.matched !== rule.nth) continue
      if (rule.times !== undefined && counter.fired >= rule.times) continue
      if (rule.probability !== undefined && draw(seed, index, key, occurrence, 'fire') >= rule.probability) continue
      counter.fired++
      const faults = Array.isArray(rule.fault) ? rule.fault : [rule.fault]
      const fault =
        faults[Math.min(faults.length - 1, Math.floor(draw(seed, index, key, occurrence, 'pick') * faults.length))]
      chosen = { rule, index, fault }
    }
    return chosen
  }

  const handle = async (req, res) => {
    const started = Date.now()
    const body = await readBody(req)
    const call = identify(req, body)
    const record = {
      seq: ++seq,
      time: started,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      service: call.service,
      operation: call.operation,
      functionName: call.functionName,
      region: call.region,
      layerName: call.layerName,
      status: null,
      upstreamStatus: null,
      fault: null,
      rule: null,
      apiClass: apiClassOf(call),
      durationMs: null
    }
    if (call.service !== 'moto') calls.push(record)
    const finish = (status) => {
      record.status = status
      record.upstreamStatus = call.upstreamStatus ?? null
      record.durationMs = Date.now() - started
    }
    const reply = (answer) => {
      finish(answer.status)
      if (res.destroyed || res.writableEnded) return
      const headers = {}
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value
      headers['content-length'] = String(answer.body.length)
      res.writeHead(answer.status, headers)
      res.end(answer.body)
    }
    const resetConnection = () => {
      finish(null)
      const socket = req.socket
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
      else socket.destroy()
    }

    if (call.service === 'moto') return reply(await upstream(call, req, body))
    const refused = envelope && admit(call, record)
    if (refused) {
      if (latencyMs > 0) await sleep(latencyMs)
      return closed ? resetConnection() : reply(refused)
    }
    // A rule for functions that carry a layer asks the emulator what the function carries now.
    if (call.service === 'lambda' && call.functionKey && rules.some((rule) => rule.withLayer !== undefined))
      call.layers = await currentLayers(call, req)
    const decision = choose(call)
    if (decision) {
      record.rule = decision.index
      // A fault that does not apply to this operation (picked from a list, say) lets the call pass.
      const inapplicable =
        decision.fault === 'pass' ||
        ((decision.fault === 'update-failed' || decision.fault === 'environment-too-large') &&
          call.operation !== 'UpdateFunctionConfiguration') ||
        ((decision.fault === 'function-error' || decision.fault === 'log-tail') && call.operation !== 'Invoke')
      if (inapplicable) decision.fault = 'pass'
      record.fault = inapplicable ? null : decision.fault
      if (decision.rule.before) await decision.rule.before({ ...record })
    }
    if (latencyMs > 0) await sleep(latencyMs)
    if (closed) return resetConnection()
    const fault = decision?.fault
    const rule = decision?.rule ?? {}
    const withMismatch = (answer) => {
      if (call.revisionMismatch && !record.fault) record.fault = 'stale-revision'
      if (call.inProgress && !record.fault) record.fault = 'update-in-progress'
      return answer
    }

    if (fault === undefined || fault === 'pass') return reply(withMismatch(await upstream(call, req, body)))
    if (fault in ERROR_FAULTS) {
      if (rule.forward) await upstream(call, req, body)
      return reply(errorAnswer(fault, call, rule.message))
    }
    if (fault === 'reset') {
      if (rule.forward) await upstream(call, req, body)
      return resetConnection()
    }
    if (fault === 'delay') {
      const ms = rule.delayMs ?? DEFAULT_DELAY_MS
      if (rule.forward === false) {
        await sleep(ms)
        if (closed) return resetConnection()
        return reply(withMismatch(await upstream(call, req, body)))
      }
      const answer = withMismatch(await upstream(call, req, body))
      await sleep(ms)
      if (closed) return resetConnection()
      return reply(answer)
    }
    if (fault === 'update-failed') {
      const answer = await upstream(call, req, body, {
        failUpdate: {
          reason: rule.reason ?? 'The Rotel extension layer could not be extracted: the layer archive is corrupt.',
          reasonCode: rule.reasonCode ?? 'InvalidLayer',
          immediate: rule.immediate === true
        }
      })
      // Refused (a stale RevisionId, say): nothing was applied, so nothing failed.
      if (answer.status < 200 || answer.status >= 300)
        record.fault = call.revisionMismatch ? 'stale-revision' : call.inProgress ? 'update-in-progress' : null
      return reply(answer)
    }
    if (fault === 'environment-too-large') {
      const variables = parseJson(body)?.Environment?.Variables ?? {}
      return reply(errorAnswer('invalid-parameter', call, `${ENVIRONMENT_TOO_LARGE}${JSON.stringify(variables)}`))
    }
    if (fault === 'function-error') {
      const answer = await upstream(call, req, body)
      if (answer.status < 200 || answer.status >= 300) {
        record.fault = null
        return reply(answer)
      }
      return reply(functionErrorAnswer(rule, answer))
    }
    if (fault === 'log-tail') {
      const answer = await upstream(call, req, body)
      if (answer.status !== 200) {
        record.fault = null
        return reply(answer)
      }
      return reply(withLogTail(rule, answer))
    }
    return reply(await upstream(call, req, body))
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-type': 'text/plain' })
        res.end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`)
      }
    })
  })
  server.keepAliveTimeout = 60_000
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : options.port}`

  return {
    url,
    calls,
    setRules(next) {
      rules = checkRules(next ?? [])
      counters = rules.map(newCounter)
    },
    reset() {
      calls.length = 0
      counters = rules.map(newCounter)
      functions = new Map()
      shownStreams.clear()
      if (envelope) {
        limiter.reset()
        extraThrottle.reset()
        envelopeIo.reset()
      }
    },
    async close() {
      closed = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      agent.destroy()
    }
  }
}

function newCounter() {
  return { matched: 0, fired: 0, perKey: new Map() }
}

function checkRules(rules) {
  if (!Array.isArray(rules)) throw new Error('fault proxy: rules must be an array')
  return rules.map((rule, index) => {
    const faults = Array.isArray(rule.fault) ? rule.fault : [rule.fault]
    if (faults.length === 0) throw new Error(`fault proxy: rule ${index} has an empty fault list`)
    for (const fault of faults)
      if (!FAULTS.includes(fault))
        throw new Error(`fault proxy: rule ${index}: unknown fault "${fault}" (one of ${FAULTS.join(', ')})`)
    for (const field of ['nth', 'times'])
      if (rule[field] !== undefined && !(Number.isInteger(rule[field]) && rule[field] >= (field === 'nth' ? 1 : 0)))
        throw new Error(
          `fault proxy: rule ${index}: ${field} must be a whole number${field === 'nth' ? ' from 1' : ''}`
        )
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1))
      throw new Error(`fault proxy: rule ${index}: probability must be between 0 and 1`)
    return { ...rule }
  })
}

function matches(rule, call) {
  const faults = Array.isArray(rule.fault) ? rule.fault : [rule.fault]
  // These two only make sense on one operation each: a rule naming no operation means that one.
  const implied = faults.every((f) => f === 'update-failed' || f === 'environment-too-large')
    ? 'UpdateFunctionConfiguration'
    : faults.every((f) => f === 'function-error' || f === 'log-tail')
      ? 'Invoke'
      : undefined
  const operation = rule.operation ?? implied
  if (operation !== undefined && !(Array.isArray(operation) ? operation : [operation]).includes(call.operation))
    return false
  if (rule.service !== undefined && rule.service !== call.service) return false
  if (rule.region !== undefined && rule.region !== call.region) return false
  if (rule.layerName !== undefined && rule.layerName !== call.layerName) return false
  if (rule.withLayer !== undefined && !(call.layers ?? []).some((arn) => arn.includes(rule.withLayer))) return false
  if (rule.functionName !== undefined) {
    if (call.functionName === null) return false
    if (
      rule.functionName instanceof RegExp
        ? !rule.functionName.test(call.functionName)
        : rule.functionName !== call.functionName
    )
      return false
  }
  return true
}

function callKey(call) {
  return `${call.service}/${call.operation}/${call.region ?? ''}/${call.functionName ?? call.layerName ?? ''}`
}

/** A number in [0, 1) from the seed and what is drawn for: the same inputs give the same number. */
function draw(seed, ruleIndex, key, occurrence, purpose) {
  const digest = createHash('sha256').update(`${seed}|${ruleIndex}|${key}|${occurrence}|${purpose}`).digest()
  return digest.readUInt32BE(0) / 2 ** 32
}

/** The emulated RevisionId: a UUID-shaped digest of the configuration moto holds and of the updates made. */
/** The fields of a function's configuration that say its state and update status, which ListFunctions omits. */
const STATUS_FIELDS = Object.freeze([
  'State',
  'StateReason',
  'StateReasonCode',
  'LastUpdateStatus',
  'LastUpdateStatusReason',
  'LastUpdateStatusReasonCode'
])

function revisionOf(config, generation) {
  const {
    RevisionId: _r,
    LastUpdateStatus: _s,
    LastUpdateStatusReason: _sr,
    LastUpdateStatusReasonCode: _sc,
    State: _t,
    StateReason: _tr,
    StateReasonCode: _tc,
    ...rest
  } = config
  const hex = createHash('sha256')
    .update(`${stableJson(rest)}#${generation}`)
    .digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function stableJson(value) {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`)
      .join(',')}}`
  return JSON.stringify(value)
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function forwardHeaders(headers) {
  const out = {}
  for (const [name, value] of Object.entries(headers))
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value
  return out
}

function parseJson(buffer) {
  try {
    return JSON.parse(buffer.toString('utf8'))
  } catch {
    return undefined
  }
}

function rewriteJson(answer, edit) {
  const value = parseJson(answer.body)
  if (!value || typeof value !== 'object') return answer
  return { ...answer, body: Buffer.from(JSON.stringify(edit(value))) }
}

/** Forwards, and notes what the emulator answered (or that it did not). */
async function forwarded(call, send) {
  try {
    const answer = await send()
    call.upstreamStatus = answer.status
    return answer
  } catch (error) {
    return upstreamFailure(error)
  }
}

function upstreamFailure(error) {
  return {
    status: 502,
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(
      `fault proxy: the emulator did not answer: ${error instanceof Error ? error.message : String(error)}`
    )
  }
}

function configurationPath(call) {
  return `/2015-03-31/functions/${encodeURIComponent(call.functionId)}/configuration`
}

function resourceArn(call) {
  if (call.functionId?.startsWith('arn:')) return call.functionId.replace(/(:function:[^:]+):.*$/, '$1')
  const kind = call.functionName === null && call.layerName !== null ? 'layer' : 'function'
  const name = call.functionName ?? call.layerName ?? 'resource'
  return `arn:aws:lambda:${call.region ?? 'us-east-1'}:${call.account ?? DEFAULT_ACCOUNT}:${kind}:${name}`
}

/** Which service, operation, function and region a request is for. */
function identify(req, body) {
  const url = new URL(req.url ?? '/', 'http://proxy.invalid')
  const method = (req.method ?? 'GET').toUpperCase()
  const scope = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
    String(req.headers.authorization ?? '')
  )
  const call = {
    service: scope?.[2] ?? 'unknown',
    operation: 'Unknown',
    region: scope?.[1] ?? null,
    functionName: null,
    functionId: null,
    functionKey: null,
    layerName: null,
    account: typeof req.headers['x-moto-account-id'] === 'string' ? req.headers['x-moto-account-id'] : null
  }
  if (url.pathname.startsWith('/moto-api')) return { ...call, service: 'moto', operation: url.pathname }

  const target = req.headers['x-amz-target']
  if (typeof target === 'string' && target.includes('.')) {
    // JSON protocol: "Logs_20140328.DescribeLogStreams".
    call.operation = target.slice(target.lastIndexOf('.') + 1)
    if (call.service === 'unknown' && target.startsWith('Logs_')) call.service = 'logs'
    const group = parseJson(body)?.logGroupName
    if (typeof group === 'string' && group.startsWith('/aws/lambda/'))
      call.functionName = group.slice('/aws/lambda/'.length)
    return call
  }

  const contentType = String(req.headers['content-type'] ?? '')
  const action =
    url.searchParams.get('Action') ??
    (contentType.includes('application/x-www-form-urlencoded')
      ? new URLSearchParams(body.toString('utf8')).get('Action')
      : null)
  if (action) {
    // Query protocol (STS, IAM). AssumeRoleWithWebIdentity is unsigned, so the action names the service.
    call.operation = action
    if (call.service === 'unknown') call.service = STS_ACTIONS.test(action) ? 'sts' : 'iam'
    return call
  }

  const segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s))
  if (segments.length >= 2 && /^\d{4}-\d{2}-\d{2}$/.test(segments[0])) {
    if (call.service === 'unknown') call.service = 'lambda'
    const [, kind, id, sub, extra] = segments
    if (kind === 'functions') {
      if (id !== undefined) nameFunction(call, id)
      call.operation = lambdaFunctionOperation(method, id, sub, extra)
    } else if (kind === 'tags' && id !== undefined) {
      nameFunction(call, id)
      call.operation = method === 'GET' ? 'ListTags' : method === 'POST' ? 'TagResource' : 'UntagResource'
    } else if (kind === 'layers') {
      if (id !== undefined) call.layerName = id.includes(':layer:') ? id.slice(id.indexOf(':layer:') + 7) : id
      if (id === undefined)
        call.operation = url.searchParams.get('find') === 'LayerVersion' ? 'GetLayerVersionByArn' : 'ListLayers'
      else if (sub === 'versions' && extra === undefined)
        call.operation = method === 'POST' ? 'PublishLayerVersion' : 'ListLayerVersions'
      else if (sub === 'versions' && segments[5] === 'policy')
        call.operation = method === 'POST' ? 'AddLayerVersionPermission' : 'GetLayerVersionPolicy'
      else if (sub === 'versions') call.operation = method === 'DELETE' ? 'DeleteLayerVersion' : 'GetLayerVersion'
    }
  }
  return call
}

/** Notes the function a Lambda call names, by name, partial ARN or ARN (with or without a qualifier). */
function nameFunction(call, id) {
  call.functionId = id
  const arn = /^(?:arn:[^:]+:lambda:([^:]+):(\d{12}):function:|(\d{12}):function:)?([^:]+)/.exec(id)
  call.functionName = arn?.[4] ?? id
  if (arn?.[1]) call.region = arn[1]
  if (arn?.[2] ?? arn?.[3]) call.account = arn[2] ?? arn[3]
  call.functionKey = `${call.region ?? ''}/${call.functionName}`
}

function lambdaFunctionOperation(method, id, sub, extra) {
  if (id === undefined) return method === 'POST' ? 'CreateFunction' : 'ListFunctions'
  switch (sub) {
    case undefined:
      return method === 'DELETE' ? 'DeleteFunction' : 'GetFunction'
    case 'configuration':
      return method === 'PUT' ? 'UpdateFunctionConfiguration' : 'GetFunctionConfiguration'
    case 'invocations':
      return 'Invoke'
    case 'code':
      return 'UpdateFunctionCode'
    case 'versions':
      return method === 'POST' ? 'PublishVersion' : 'ListVersionsByFunction'
    case 'policy':
      return method === 'POST' ? 'AddPermission' : extra !== undefined ? 'RemovePermission' : 'GetPolicy'
    case 'aliases':
      if (extra === undefined) return method === 'POST' ? 'CreateAlias' : 'ListAliases'
      return method === 'PUT' ? 'UpdateAlias' : method === 'DELETE' ? 'DeleteAlias' : 'GetAlias'
    case 'concurrency':
      return method === 'PUT'
        ? 'PutFunctionConcurrency'
        : method === 'DELETE'
          ? 'DeleteFunctionConcurrency'
          : 'GetFunctionConcurrency'
    case 'provisioned-concurrency':
      return method === 'PUT'
        ? 'PutProvisionedConcurrencyConfig'
        : method === 'DELETE'
          ? 'DeleteProvisionedConcurrencyConfig'
          : 'GetProvisionedConcurrencyConfig'
    case 'url':
      return method === 'POST'
        ? 'CreateFunctionUrlConfig'
        : method === 'PUT'
          ? 'UpdateFunctionUrlConfig'
          : method === 'DELETE'
            ? 'DeleteFunctionUrlConfig'
            : 'GetFunctionUrlConfig'
    case 'event-invoke-config':
      return method === 'PUT'
        ? 'PutFunctionEventInvokeConfig'
        : method === 'POST'
          ? 'UpdateFunctionEventInvokeConfig'
          : method === 'DELETE'
            ? 'DeleteFunctionEventInvokeConfig'
            : 'GetFunctionEventInvokeConfig'
    default:
      return 'Unknown'
  }
}

/** The error answer a service sends for a fault, in that service's protocol. */
function errorAnswer(fault, call, message, retryAfterSeconds = 1) {
  const spec = ERROR_FAULTS[fault]
  const text = message ?? (typeof spec.message === 'function' ? spec.message(call) : spec.message)
  const requestId = randomUUID()
  if (call.service === 'sts' || call.service === 'iam') {
    const [status, code] = spec.query
    const namespace =
      call.service === 'sts' ? 'https://sts.amazonaws.com/doc/2011-06-15/' : 'https://iam.amazonaws.com/doc/2010-05-08/'
    const xml =
      `<ErrorResponse xmlns="${namespace}">\n  <Error>\n    <Type>${spec.type === 'Service' ? 'Receiver' : 'Sender'}</Type>\n` +
      `    <Code>${code}</Code>\n    <Message>${escapeXml(text)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`
    return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: Buffer.from(xml) }
  }
  if (call.service === 'lambda' || call.service === 'unknown') {
    const [status, name] = spec.restJson
    // Lambda's TooManyRequestsException says when to come back (API reference, Errors: "Retry-After").
    const retryAfter = fault === 'too-many-requests' ? { 'retry-after': String(retryAfterSeconds) } : {}
    return {
      status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': name,
        'x-amzn-requestid': requestId,
        ...retryAfter
      },
      body: Buffer.from(JSON.stringify({ Type: spec.type, message: text, ...(spec.extra ?? {}) }))
    }
  }
  const [status, name] = spec.json
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
    body: Buffer.from(JSON.stringify({ __type: name, message: text }))
  }
}

/** A 200 answer in the call's protocol (Lambda REST JSON, else JSON 1.1). */
function jsonAnswer(call, value) {
  const type = call.service === 'lambda' ? 'application/json' : 'application/x-amz-json-1.1'
  return {
    status: 200,
    headers: { 'content-type': type, 'x-amzn-requestid': randomUUID() },
    body: Buffer.from(JSON.stringify(value))
  }
}

function functionErrorAnswer(rule, answer) {
  const requestId = randomUUID()
  const errorMessage = rule.errorMessage ?? "Cannot find module 'rotel-config'"
  const tail =
    rule.logTail ??
    [
      `START RequestId: ${requestId} Version: $LATEST`,
      `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t{"errorType":"Error","errorMessage":${JSON.stringify(errorMessage)}}`,
      `END RequestId: ${requestId}`,
      `REPORT RequestId: ${requestId}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB`,
      ''
    ].join('\n')
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'x-amzn-requestid': answer.headers['x-amzn-requestid'] ?? requestId,
      'x-amz-function-error': 'Unhandled',
      'x-amz-executed-version': '$LATEST',
      'x-amz-log-result': Buffer.from(tail).toString('base64')
    },
    body: Buffer.from(JSON.stringify({ errorType: 'Error', errorMessage, trace: [] }))
  }
}

/** The invocation's own answer, with the rule's log tail for its request id (one made up when moto gave none). */
function withLogTail(rule, answer) {
  const requestId = answer.headers['x-amzn-requestid'] ?? randomUUID()
  const tail = (rule.logTail ?? '').replaceAll('{requestId}', requestId)
  return {
    ...answer,
    headers: {
      ...answer.headers,
      'x-amzn-requestid': requestId,
      'x-amz-log-result': Buffer.from(tail).toString('base64')
    }
  }
}

function escapeXml(text) {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c])
}
