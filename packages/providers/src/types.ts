import type {
  Artifact,
  CloudKind,
  IdentityResult,
  IntegrationError,
  IntegrationKind,
  PatKind,
  PermissionCheck,
  ResourcesResult,
} from '@alphaswarm/contracts';
import type { descriptors, InputOf, IssuedCredentials } from './descriptors';
import type { HttpClient } from './http';

/** Base URLs of every upstream; each one overridable by configuration so tests point at loopback fakes. */
export interface UpstreamConfig {
  huggingfaceEndpoint: string;
  dockerHubUrl: string;
  aws: {
    region: string;
    /** Explicit endpoints; when absent the AWS SDK applies its own AWS_ENDPOINT_URL(_STS|_IAM|_EC2) convention. */
    stsEndpoint?: string;
    iamEndpoint?: string;
    ec2Endpoint?: string;
    /** Where the operator hosts the CloudFormation template once (HTTPS, e.g. S3); completes the quick-create link. */
    templateUrl?: string;
  };
  gcp: { stsEndpoint: string; iamCredentialsEndpoint: string; crmEndpoint: string };
  azure: { authorityHost: string; armEndpoint: string };
  cloudflare: { apiUrl: string; maxTtlDays: number };
  /** Extra PEM CA bundle trusted for upstream TLS (loopback fakes with a self-signed certificate). */
  tlsCa?: string;
}

/** Mints short-lived subject tokens from our workload OIDC issuer. */
export interface WorkloadTokenSource {
  /** `<public url>/workload` */
  issuer: string;
  mint(claims: { sub: string; aud: string }): Promise<string>;
  /** Every key a verifier may meet (active and still-overlapping), for clouds that take an uploaded JWKS. */
  jwks?(): Promise<{ keys: Record<string, unknown>[] }>;
}

/** Everything a provider may touch. Built once per request/sweep; never read from module globals. */
export interface ProviderContext {
  http: HttpClient;
  upstreams: UpstreamConfig;
  now: () => Date;
  workload: WorkloadTokenSource;
  signal?: AbortSignal;
}

export interface Warning {
  code: string;
  message: string;
}

/** What a validated credential turns into: stored as one link. */
export interface LinkDraft<S = unknown> {
  namespace: string;
  metadata: Record<string, unknown>;
  /** Plaintext secret to encrypt, or null for federated kinds. */
  secret: S | null;
  /** healthy, or degraded when warnings say something needs attention. */
  status: 'healthy' | 'degraded';
  error: IntegrationError | null;
  warnings: Warning[];
  /** When the upstream credential expires, if it says. RFC 3339. */
  expires_at: string | null;
}

/** A stored link as a provider sees it: its secret decrypted and parsed by the descriptor's secret schema. */
export interface StoredLink<S = unknown> {
  org_id: string;
  kind: IntegrationKind;
  namespace: string;
  metadata: Record<string, unknown>;
  secret: S | null;
}

export interface HealthResult {
  status: 'healthy' | 'degraded' | 'unhealthy';
  error: IntegrationError | null;
  /** Metadata refreshed by the probe (e.g. token role changed); merged over the stored one. */
  metadata?: Record<string, unknown>;
  expires_at: string | null;
}

/** A cloud kind's identity params, typed by its descriptor's input schema. */
export type IdentityParams<K extends CloudKind = CloudKind> = InputOf<K>;

interface ProviderBase<K extends IntegrationKind, S> {
  kind: K;
  /** Human name of the upstream, used in every error message. */
  upstream: string;
  /** The kind's facts and schemas (also loadable without the SDKs, from the descriptors entry). */
  descriptor: (typeof descriptors)[K];
  /**
   * Re-run the kind's probe against the stored link. Throws ProviderError when it fails: the
   * caller marks the link unhealthy for a verdict on the credential (rejected, trust or permission
   * broken) and degraded for a passing fault (timeout, 5xx, rate limit).
   */
  checkHealth(ctx: ProviderContext, link: StoredLink<S>): Promise<HealthResult>;
  /** What a service principal gets to act for the org (minted on the spot for clouds). */
  issueCredentials(ctx: ProviderContext, link: StoredLink<S>): Promise<IssuedCredentials<K>>;
  /**
   * Roll the stored secret upstream (Cloudflare). The old value dies upstream immediately,
   * so the caller must persist the returned secret before answering.
   */
  rotateSecret?(ctx: ProviderContext, link: StoredLink<S>): Promise<{ secret: S; expires_at: string | null }>;
}

export interface PatProvider<K extends PatKind = PatKind, S = unknown> extends ProviderBase<K, S> {
  family: 'pat';
  /**
   * Validate upstream; only a validated credential becomes a draft. The input was checked against
   * the descriptor's input schema where it arrived. Throws ProviderError.
   */
  validate(ctx: ProviderContext, input: InputOf<K>): Promise<LinkDraft<S>>;
}

/** Per-session facts a cloud wizard step sees. */
export interface WizardContext<K extends CloudKind> {
  org_id: string;
  kind: K;
  /** `org:<org_id>:<kind>` */
  subject: string;
  params: IdentityParams<K> | null;
  identity: IdentityResult | null;
  /** What the operator told step 1 so the artifacts need no placeholders (GCP: the project id). */
  setup?: { project_id?: string } | null;
}

export interface CloudProvider<K extends CloudKind = CloudKind, S = unknown> extends ProviderBase<K, S> {
  family: 'cloud';
  /** The JWT audience of our subject token for this kind (GCP needs the params). */
  audience(params: IdentityParams<K> | null): string;
  bootstrapArtifacts(
    ctx: ProviderContext,
    wizard: WizardContext<K>,
  ): Promise<{ audience: string; artifacts: Artifact[]; links: { label: string; url: string }[] }>;
  validateIdentity(
    ctx: ProviderContext,
    wizard: WizardContext<K> & { params: IdentityParams<K> },
  ): Promise<IdentityResult>;
  validatePermissions(
    ctx: ProviderContext,
    wizard: WizardContext<K> & { params: IdentityParams<K>; identity: IdentityResult },
  ): Promise<PermissionCheck[]>;
  enumerateResources(
    ctx: ProviderContext,
    wizard: WizardContext<K> & { params: IdentityParams<K>; identity: IdentityResult },
  ): Promise<ResourcesResult>;
  /** The link to persist once identity and permissions passed: identifiers only (+ the Cloudflare token). */
  toLink(
    ctx: ProviderContext,
    wizard: WizardContext<K> & { params: IdentityParams<K>; identity: IdentityResult },
    permissions: PermissionCheck[],
    resources: ResourcesResult | null,
  ): Promise<LinkDraft<S>>;
}

export type Provider = PatProvider | CloudProvider;
