export function toolPackage(name: string): string
export function node24Binary(): string | undefined
export function ensureTool(name: string, log?: (line: string) => void): string
