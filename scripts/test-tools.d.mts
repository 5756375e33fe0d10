export function toolPackage(name: string): string
export function node24(): string
export function ensureTool(name: string, log?: (line: string) => void): string
