/**
 * The preflight's OTLP log record, as OTLP/JSON and as a protobuf ExportLogsServiceRequest in a gRPC
 * frame, encoded by hand: one fixed record needs no protobuf library. Pure.
 */

export const PREFLIGHT_SERVICE_NAME = 'rotel-clickstack-action'
export const PREFLIGHT_BODY = 'rotel-clickstack-action preflight'

/** The preflight record as OTLP/JSON (ExportLogsServiceRequest). */
export function preflightJson(nowNs: bigint): unknown {
  const attribute = (key: string, value: string) => ({ key, value: { stringValue: value } })
  return {
    resourceLogs: [
      {
        resource: { attributes: [attribute('service.name', PREFLIGHT_SERVICE_NAME)] },
        scopeLogs: [
          {
            scope: { name: PREFLIGHT_SERVICE_NAME },
            logRecords: [
              {
                timeUnixNano: String(nowNs),
                observedTimeUnixNano: String(nowNs),
                severityNumber: 9,
                severityText: 'INFO',
                body: { stringValue: PREFLIGHT_BODY },
                attributes: [attribute('rotel.preflight', 'true')]
              }
            ]
          }
        ]
      }
    ]
  }
}

function varint(value: number | bigint): number[] {
  let rest = BigInt(value)
  const bytes: number[] = []
  while (rest > 0x7fn) {
    bytes.push(Number(rest & 0x7fn) | 0x80)
    rest >>= 7n
  }
  bytes.push(Number(rest))
  return bytes
}
const key = (field: number, wireType: number): number[] => varint((field << 3) | wireType)
const lengthDelimited = (field: number, payload: readonly number[]): number[] => [
  ...key(field, 2),
  ...varint(payload.length),
  ...payload
]
const stringField = (field: number, text: string): number[] => lengthDelimited(field, [...Buffer.from(text, 'utf8')])
const varintField = (field: number, value: number): number[] => [...key(field, 0), ...varint(value)]
function fixed64Field(field: number, value: bigint): number[] {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64LE(value)
  return [...key(field, 1), ...bytes]
}
/** KeyValue { key = 1; AnyValue value = 2 { string_value = 1 } } */
const stringAttribute = (name: string, value: string): number[] => [
  ...stringField(1, name),
  ...lengthDelimited(2, stringField(1, value))
]

/**
 * The preflight record as a protobuf ExportLogsServiceRequest:
 * resource_logs(1) → { resource(1) → attributes(1), scope_logs(2) → { scope(1) → name(1),
 * log_records(2) → { time_unix_nano(1) fixed64, severity_number(2), severity_text(3), body(5),
 * attributes(6), observed_time_unix_nano(11) fixed64 } } }
 */
export function encodePreflightRequest(nowNs: bigint): Buffer {
  const logRecord = [
    ...fixed64Field(1, nowNs),
    ...varintField(2, 9), // SEVERITY_NUMBER_INFO
    ...stringField(3, 'INFO'),
    ...lengthDelimited(5, stringField(1, PREFLIGHT_BODY)),
    ...lengthDelimited(6, stringAttribute('rotel.preflight', 'true')),
    ...fixed64Field(11, nowNs)
  ]
  const scopeLogs = [...lengthDelimited(1, stringField(1, PREFLIGHT_SERVICE_NAME)), ...lengthDelimited(2, logRecord)]
  const resource = lengthDelimited(1, stringAttribute('service.name', PREFLIGHT_SERVICE_NAME))
  const resourceLogs = [...lengthDelimited(1, resource), ...lengthDelimited(2, scopeLogs)]
  return Buffer.from(lengthDelimited(1, resourceLogs))
}

/** A gRPC message frame: compressed flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(message.length, 1)
  return Buffer.concat([header, message])
}
