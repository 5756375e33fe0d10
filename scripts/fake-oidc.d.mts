// Types of scripts/fake-oidc.mjs (hand-written; keep in step with it).

export interface FakeOidcOptions {
  /** The bearer token requests must carry (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  requestToken: string
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number
  /** `aud` claim when a request names no audience; default the server's own URL. */
  defaultAudience?: string
  /** Extra or overriding claims in every token's payload. */
  claims?: Record<string, unknown>
}

export interface FakeOidcRequest {
  method: string
  path: string
  /** The `audience` query parameter, decoded; null when absent. */
  audience: string | null
  /** Whether the Authorization header was `Bearer <requestToken>`. */
  authorized: boolean
  /** The token handed out, when the request succeeded. */
  token: string | undefined
}

export interface FakeOidc {
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL (carries a query, so `&audience=` can be appended). */
  url: string
  /** `iss` claim of the tokens: http://127.0.0.1:PORT */
  issuer: string
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string
  /** Every request received, oldest first. */
  requests: FakeOidcRequest[]
  close(): Promise<void>
}

/** Starts the fake ID-token endpoint on 127.0.0.1; resolves once it listens. */
export declare function startFakeOidc(options: FakeOidcOptions): Promise<FakeOidc>
