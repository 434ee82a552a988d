// Types for mayfly-testing (hand-written; the package has no build step).

export type Permission = 'admin-read-write' | 'admin-read-only' | 'object-read-write' | 'object-read-only';

/** Options for `new S3Client(...)` from @aws-sdk/client-s3. */
export interface S3Config {
  endpoint: string;
  region: 'auto';
  forcePathStyle: true;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface MintedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  endpoint: string;
  region: 'auto';
  s3Config: S3Config;
}

export interface MintOptions {
  prefixes?: string[];
  objects?: string[];
  /** Lifetime in seconds (default 900). */
  ttl?: number;
}

export declare class Account {
  readonly apiUrl: string;
  readonly s3Url: string;
  readonly accountId: string;
  readonly apiToken: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly s3Config: S3Config;
  api(method: string, path: string, body?: unknown): Promise<any>;
  createBucket(name?: string): Promise<string>;
  mint(bucket: string, permission?: Permission, options?: MintOptions): Promise<MintedCredentials>;
}

export declare class Mayfly extends Account {
  readonly pid: number;
  readonly logPath: string;
  newAccount(): Promise<Account>;
  logs(): string;
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

export interface StartOptions {
  /** The mayfly executable (default: MAYFLY_BIN, then PATH). */
  bin?: string;
  /** Extra `mayfly serve` arguments. */
  args?: string[];
  timeoutMs?: number;
}

export declare function startMayfly(options?: StartOptions): Promise<Mayfly>;
export declare function findMayfly(bin?: string): string;
export declare const PERMISSIONS: Permission[];
export default startMayfly;
