/**
 * The link to HyperDX's search for what the delivery check counted: the function's records (by the
 * resource's service.name as configured, or faas.name, which the extension sets to the function's name
 * whatever resource-attributes says) that name the test invocation's request id.
 */

export interface HyperdxSearch {
  readonly functionName: string
  /** The function's service.name when resource-attributes sets one; the function's name otherwise. */
  readonly serviceName?: string | undefined
  /** The test invocation's request id; absent: every record of the function in the window. */
  readonly requestId?: string | undefined
  readonly fromMs: number
  readonly toMs: number
}

/** A link that may be shown: no user-info (its password is a secret), no query and no fragment. */
function withoutCredentials(base: string): string {
  try {
    const url = new URL(base)
    return `${url.protocol}//${url.host}${url.pathname}`
  } catch {
    return base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/[?#].*$/, '')
  }
}

/** A Lucene phrase: quoted, with its quotes and backslashes escaped. */
const phrase = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`

/**
 * The Lucene `where` that mirrors the check's query. In HyperDX's Lucene a quoted `field:"value"` is
 * equality, `ResourceAttributes.faas.name` reads a key of the Map column, and a bare quoted term searches
 * the source's implicit column (the body of a log source) for the whole word (hyperdxio/hyperdx
 * packages/common-utils/src/queryParser.ts, fieldSearch: "has whole word") – the same whole-token match as
 * the check's. The request id part names LogAttributes, so the link is for a logs source (ClickStack's
 * default one).
 */
export function hyperdxWhere(search: Pick<HyperdxSearch, 'functionName' | 'serviceName' | 'requestId'>): string {
  const serviceName = search.serviceName?.trim() || search.functionName
  const ofFunction = `(ServiceName:${phrase(serviceName)} OR ResourceAttributes.faas.name:${phrase(search.functionName)})`
  if (!search.requestId) return ofFunction
  return `${ofFunction} AND (${phrase(search.requestId)} OR LogAttributes.faas.invocation_id:${phrase(search.requestId)})`
}

/**
 * A link to HyperDX's search in a time window: `/search` with `from`/`to` in ms since the epoch, the
 * Lucene `where` above, `whereLanguage=lucene` and `isLive=false` – the query parameters of HyperDX v2's
 * search page (packages/app/src/DBSearchPage.tsx). No `source`: that is a HyperDX id the action does not
 * know, so the page opens the user's current source.
 */
export function hyperdxSearchUrl(base: string, search: HyperdxSearch): string {
  const root = withoutCredentials(base.trim())
    .replace(/\/+$/, '')
    .replace(/\/search$/, '')
  const params = new URLSearchParams({
    from: String(Math.floor(search.fromMs)),
    to: String(Math.ceil(search.toMs)),
    isLive: 'false',
    where: hyperdxWhere(search),
    whereLanguage: 'lucene'
  })
  return `${root}/search?${params.toString()}`
}
