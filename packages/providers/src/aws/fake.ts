import { randomBytes, randomUUID } from 'node:crypto';
import {
  type FakeReply,
  type FakeRequest,
  type RouteKnob,
  type RunningFake,
  type SlowOrBrokenKnobs,
  selected,
  slowOrBroken,
  startFakeServer,
} from '../testing/fake-server';
import { type Trust, verifySubjectToken } from '../testing/subject-token';
import { issuerHostPath } from './artifacts';

/**
 * A loopback stand-in for the three AWS query-protocol services the provider calls — STS,
 * IAM and EC2 — on one server, routed on the form body's `Action` (upstreams.md §3).
 * Web identity tokens are really verified against the role's trust (our issuer's discovery
 * and JWKS over HTTP); SigV4 signatures are not, only the access key id in `Credential=`.
 */

const NS = {
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
} as const;
type Service = keyof typeof NS;

const SERVICE_OF: Record<string, Service> = {
  AssumeRoleWithWebIdentity: 'sts',
  GetCallerIdentity: 'sts',
  SimulatePrincipalPolicy: 'iam',
  ListAccountAliases: 'iam',
  DescribeRegions: 'ec2',
};

export interface AwsFakeRole {
  /** arn:aws:iam::<account>:role/<path/name> */
  arn: string;
  /** What the role's trust policy accepts: the OIDC provider (issuer) and the aud/sub conditions. */
  trust: Trust;
  /** IAM actions the role's policies allow; `*` globs like `ec2:Describe*` work. */
  allowedActions: string[];
  maxSessionSeconds?: number;
}

export interface AwsFakeKnobs extends SlowOrBrokenKnobs {
  /** Actions answered with the service's throttling error (`true` = every action). */
  throttle: RouteKnob;
  /** Actions answered with a 5xx (`true` = every action). */
  serverError: RouteKnob;
  /** The account has no IAM OIDC provider for any issuer: every web identity token is refused. */
  untrustedIssuer: boolean;
  /** Results per SimulatePrincipalPolicy page (also bounded by the request's MaxItems). */
  simulatePageSize: number;
}

export interface AwsFakeSession {
  accessKeyId: string;
  sessionToken: string;
  roleArn: string;
  assumedRoleArn: string;
  userId: string;
  account: string;
  expiresAt: Date;
  subject: string;
}

export interface AwsFakeRegion {
  name: string;
  optInStatus?: 'opt-in-not-required' | 'opted-in' | 'not-opted-in';
}

export interface AwsFake extends RunningFake {
  knobs: AwsFakeKnobs;
  addRole(role: AwsFakeRole): void;
  /** Replace a role's allowed actions (e.g. the customer edits the policy after connecting). */
  setAllowedActions(roleArn: string, actions: string[]): void;
  setAccountAlias(account: string, alias: string | null): void;
  setRegions(regions: AwsFakeRegion[]): void;
  /** Sessions handed out by AssumeRoleWithWebIdentity, by access key id. */
  sessions: Map<string, AwsFakeSession>;
  /** Ready for `ctx.upstreams.aws`. */
  upstream(region?: string): { region: string; stsEndpoint: string; iamEndpoint: string; ec2Endpoint: string };
}

const DEFAULT_REGIONS: AwsFakeRegion[] = [
  { name: 'us-east-1' },
  { name: 'us-east-2' },
  { name: 'us-west-2' },
  { name: 'eu-west-1' },
  { name: 'eu-central-1' },
  { name: 'ap-southeast-2' },
  { name: 'af-south-1', optInStatus: 'not-opted-in' },
];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function randomId(prefix: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function xmlReply(status: number, body: string, requestId: string): FakeReply {
  return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

function queryError(service: Service, status: number, code: string, message: string, requestId: string): FakeReply {
  if (service === 'ec2') {
    return xmlReply(
      status,
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      requestId,
    );
  }
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return xmlReply(
    status,
    `<ErrorResponse xmlns="${NS[service]}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${esc(code)}</Code>\n    <Message>${esc(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>`,
    requestId,
  );
}

function queryResult(service: Exclude<Service, 'ec2'>, action: string, inner: string, requestId: string): FakeReply {
  return xmlReply(
    200,
    `<${action}Response xmlns="${NS[service]}">\n  <${action}Result>\n${inner}\n  </${action}Result>\n  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>\n</${action}Response>`,
    requestId,
  );
}

function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(action);
}

function members(form: URLSearchParams, prefix: string): string[] {
  const out: { n: number; v: string }[] = [];
  for (const [k, v] of form) {
    const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(k);
    if (m) out.push({ n: Number(m[1]), v });
  }
  return out.sort((a, b) => a.n - b.n).map((e) => e.v);
}

function accountOf(roleArn: string): string {
  return /^arn:[^:]+:iam::(\d{12}):role\//.exec(roleArn)?.[1] ?? '000000000000';
}

function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

export async function startAwsFake(options: { regions?: AwsFakeRegion[] } = {}): Promise<AwsFake> {
  const roles = new Map<string, AwsFakeRole & { roleId: string }>();
  const aliases = new Map<string, string>();
  const sessions = new Map<string, AwsFakeSession>();
  let regions = options.regions ?? DEFAULT_REGIONS;
  const knobs: AwsFakeKnobs = {
    throttle: false,
    serverError: false,
    delayMs: 0,
    untrustedIssuer: false,
    simulatePageSize: 2,
    fault: null,
  };

  const assumeRoleWithWebIdentity = async (form: URLSearchParams, rid: string): Promise<FakeReply> => {
    const err = (status: number, code: string, message: string) => queryError('sts', status, code, message, rid);
    const roleArn = form.get('RoleArn') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    const token = form.get('WebIdentityToken') ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      return err(
        400,
        'ValidationError',
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint`,
      );
    }
    if (token.length < 4)
      return err(
        400,
        'ValidationError',
        "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint",
      );
    let unverifiedIss = '';
    try {
      unverifiedIss = String(
        (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss,
      );
    } catch {
      return err(
        400,
        'InvalidIdentityToken',
        'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
      );
    }
    if (knobs.untrustedIssuer) {
      return err(400, 'InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${unverifiedIss}`);
    }
    const role = roles.get(roleArn);
    if (!role) return err(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const verdict = await verifySubjectToken(token, role.trust);
    if (!verdict.ok) {
      const hostPath = issuerHostPath(role.trust.issuer);
      switch (verdict.failure) {
        case 'malformed':
          return err(
            400,
            'InvalidIdentityToken',
            'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
          );
        case 'untrusted_issuer':
          if (unverifiedIss !== role.trust.issuer) {
            return err(
              403,
              'AccessDenied',
              `Not authorized to perform sts:AssumeRoleWithWebIdentity: the role trusts the OIDC provider ${role.trust.issuer}, the token was issued by ${unverifiedIss} (issuer)`,
            );
          }
          return err(
            400,
            'InvalidIdentityToken',
            "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
          );
        case 'bad_signature':
          return err(
            400,
            'InvalidIdentityToken',
            'The signature of the ID Token could not be verified with the keys of the identity provider',
          );
        case 'expired': {
          const exp =
            typeof verdict.claims?.exp === 'number' ? new Date(verdict.claims.exp * 1000).toISOString() : 'unknown';
          return err(
            400,
            'ExpiredTokenException',
            `Token expired: current date/time ${new Date().toISOString()} must be before the expiration date/time ${exp}`,
          );
        }
        case 'wrong_audience':
          return err(
            403,
            'AccessDenied',
            `Not authorized to perform sts:AssumeRoleWithWebIdentity: condition StringEquals ${hostPath}:aud failed (token aud ${verdict.detail ?? ''})`,
          );
        default: // wrong_subject
          return err(
            403,
            'AccessDenied',
            `Not authorized to perform sts:AssumeRoleWithWebIdentity: condition StringEquals ${hostPath}:sub failed (token sub ${verdict.detail ?? ''})`,
          );
      }
    }
    const duration = Number(form.get('DurationSeconds') ?? '3600');
    const max = role.maxSessionSeconds ?? 3600;
    if (!Number.isInteger(duration) || duration < 900) {
      return err(
        400,
        'ValidationError',
        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      );
    }
    if (duration > max) {
      return err(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }
    const account = accountOf(roleArn);
    const session: AwsFakeSession = {
      accessKeyId: randomId('ASIA', 16),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(48).toString('base64url')}`,
      roleArn,
      assumedRoleArn: `arn:aws:sts::${account}:assumed-role/${roleNameOf(roleArn)}/${sessionName}`,
      userId: `${role.roleId}:${sessionName}`,
      account,
      expiresAt: new Date(Date.now() + duration * 1000),
      subject: String(verdict.claims?.sub),
    };
    sessions.set(session.accessKeyId, session);
    const secret = randomBytes(30).toString('base64');
    return queryResult(
      'sts',
      'AssumeRoleWithWebIdentity',
      [
        `    <SubjectFromWebIdentityToken>${esc(session.subject)}</SubjectFromWebIdentityToken>`,
        `    <Audience>${esc(role.trust.audience)}</Audience>`,
        `    <AssumedRoleUser><Arn>${esc(session.assumedRoleArn)}</Arn><AssumedRoleId>${esc(session.userId)}</AssumedRoleId></AssumedRoleUser>`,
        `    <Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${session.sessionToken}</SessionToken><Expiration>${session.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration></Credentials>`,
        `    <Provider>${esc(hostPathOrIssuer(role.trust.issuer))}</Provider>`,
      ].join('\n'),
      rid,
    );
  };

  /** The caller of a signed request, or the error AWS answers when the key is unknown or stale. */
  const authenticate = (req: FakeRequest, service: Service, rid: string): AwsFakeSession | FakeReply => {
    const auth = String(req.headers.authorization ?? '');
    const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
    if (!m) {
      return service === 'ec2'
        ? queryError('ec2', 401, 'AuthFailure', 'AWS was not able to validate the provided access credentials', rid)
        : queryError(service, 403, 'MissingAuthenticationToken', 'Request is missing Authentication Token', rid);
    }
    const session = sessions.get(m[1] ?? '');
    const signedFor = m[3];
    if (!session || signedFor !== service || req.headers['x-amz-security-token'] !== session.sessionToken) {
      return service === 'ec2'
        ? queryError('ec2', 401, 'AuthFailure', 'AWS was not able to validate the provided access credentials', rid)
        : queryError(
            service,
            403,
            'InvalidClientTokenId',
            'The security token included in the request is invalid.',
            rid,
          );
    }
    if (session.expiresAt.getTime() <= Date.now()) {
      return queryError(
        service,
        service === 'ec2' ? 400 : 403,
        'ExpiredToken',
        'The security token included in the request is expired',
        rid,
      );
    }
    return session;
  };

  const allowed = (session: AwsFakeSession, action: string): boolean =>
    roles.get(session.roleArn)?.allowedActions.some((p) => actionMatches(p, action)) ?? false;

  const handler = async (req: FakeRequest): Promise<FakeReply> => {
    const rid = randomUUID();
    const form = new URLSearchParams(req.method === 'POST' ? req.body : req.query.toString());
    const action = form.get('Action') ?? '';
    const service = SERVICE_OF[action];
    const reply = await (async (): Promise<FakeReply> => {
      if (req.method !== 'POST' || req.path !== '/' || !service) {
        return queryError(
          service ?? 'sts',
          400,
          'InvalidAction',
          `Could not find operation ${action} for version ${form.get('Version') ?? ''}`,
          rid,
        );
      }
      if (selected(knobs.serverError, action)) {
        return service === 'ec2'
          ? queryError('ec2', 503, 'Unavailable', "The server is overloaded and can't handle the request.", rid)
          : queryError(
              service,
              500,
              'InternalFailure',
              'The request processing has failed because of an unknown error, exception or failure.',
              rid,
            );
      }
      if (selected(knobs.throttle, action)) {
        return service === 'ec2'
          ? queryError('ec2', 503, 'RequestLimitExceeded', 'Request limit exceeded.', rid)
          : queryError(service, 400, 'Throttling', 'Rate exceeded', rid);
      }
      if (action === 'AssumeRoleWithWebIdentity') return assumeRoleWithWebIdentity(form, rid);
      const caller = authenticate(req, service, rid);
      if ('status' in caller) return caller;
      switch (action) {
        case 'GetCallerIdentity':
          return queryResult(
            'sts',
            'GetCallerIdentity',
            `    <Arn>${esc(caller.assumedRoleArn)}</Arn>\n    <UserId>${esc(caller.userId)}</UserId>\n    <Account>${caller.account}</Account>`,
            rid,
          );
        case 'ListAccountAliases': {
          if (!allowed(caller, 'iam:ListAccountAliases')) {
            return queryError(
              'iam',
              403,
              'AccessDenied',
              `User: ${caller.assumedRoleArn} is not authorized to perform: iam:ListAccountAliases on resource: *`,
              rid,
            );
          }
          const alias = aliases.get(caller.account);
          return queryResult(
            'iam',
            'ListAccountAliases',
            `    <IsTruncated>false</IsTruncated>\n    <AccountAliases>${alias ? `<member>${esc(alias)}</member>` : ''}</AccountAliases>`,
            rid,
          );
        }
        case 'SimulatePrincipalPolicy': {
          const source = form.get('PolicySourceArn') ?? '';
          if (!allowed(caller, 'iam:SimulatePrincipalPolicy')) {
            return queryError(
              'iam',
              403,
              'AccessDenied',
              `User: ${caller.assumedRoleArn} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: ${source}`,
              rid,
            );
          }
          if (!/^arn:[^:]+:iam::\d{12}:(role|user|group)\//.test(source)) {
            return queryError('iam', 400, 'InvalidInput', `ARN ${source} is not valid.`, rid);
          }
          const role = roles.get(source);
          if (!role)
            return queryError(
              'iam',
              404,
              'NoSuchEntity',
              `The role with name ${roleNameOf(source)} cannot be found.`,
              rid,
            );
          const actions = members(form, 'ActionNames.member');
          if (actions.length === 0)
            return queryError(
              'iam',
              400,
              'ValidationError',
              "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint",
              rid,
            );
          const start = Number(Buffer.from(form.get('Marker') ?? '', 'base64url').toString('utf8') || '0');
          const pageSize = Math.min(Number(form.get('MaxItems') ?? '100'), knobs.simulatePageSize);
          const page = actions.slice(start, start + pageSize);
          const truncated = start + pageSize < actions.length;
          const results = page
            .map((a) => {
              const ok = role.allowedActions.some((p) => actionMatches(p, a));
              return [
                '      <member>',
                `        <EvalActionName>${esc(a)}</EvalActionName>`,
                '        <EvalResourceName>*</EvalResourceName>',
                `        <EvalDecision>${ok ? 'allowed' : 'implicitDeny'}</EvalDecision>`,
                ok
                  ? '        <MatchedStatements><member><SourcePolicyId>alphaswarm-read-only</SourcePolicyId><SourcePolicyType>IAM Policy</SourcePolicyType></member></MatchedStatements>'
                  : '        <MatchedStatements/>',
                '        <MissingContextValues/>',
                '      </member>',
              ].join('\n');
            })
            .join('\n');
          return queryResult(
            'iam',
            'SimulatePrincipalPolicy',
            `    <IsTruncated>${truncated}</IsTruncated>\n${truncated ? `    <Marker>${Buffer.from(String(start + pageSize)).toString('base64url')}</Marker>\n` : ''}    <EvaluationResults>\n${results}\n    </EvaluationResults>`,
            rid,
          );
        }
        case 'DescribeRegions': {
          if (!allowed(caller, 'ec2:DescribeRegions')) {
            return queryError(
              'ec2',
              403,
              'UnauthorizedOperation',
              'You are not authorized to perform this operation.',
              rid,
            );
          }
          const all = form.get('AllRegions') === 'true';
          const names = members(form, 'RegionName');
          const visible = regions.filter(
            (r) =>
              (all || (r.optInStatus ?? 'opt-in-not-required') !== 'not-opted-in') &&
              (names.length === 0 || names.includes(r.name)),
          );
          const items = visible
            .map(
              (r) =>
                `        <item>\n            <regionName>${esc(r.name)}</regionName>\n            <regionEndpoint>ec2.${esc(r.name)}.amazonaws.com</regionEndpoint>\n            <optInStatus>${r.optInStatus ?? 'opt-in-not-required'}</optInStatus>\n        </item>`,
            )
            .join('\n');
          return xmlReply(
            200,
            `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="${NS.ec2}">\n    <requestId>${rid}</requestId>\n    <regionInfo>\n${items}\n    </regionInfo>\n</DescribeRegionsResponse>`,
            rid,
          );
        }
        default:
          return queryError(service, 400, 'InvalidAction', `Could not find operation ${action}`, rid);
      }
    })();
    return {
      ...reply,
      ...slowOrBroken(knobs),
    };
  };

  const server = await startFakeServer(handler);
  return {
    ...server,
    knobs,
    sessions,
    addRole(role) {
      roles.set(role.arn, { ...role, roleId: randomId('AROA', 17) });
    },
    setAllowedActions(roleArn, actions) {
      const role = roles.get(roleArn);
      if (!role) throw new Error(`no role ${roleArn} in the AWS fake`);
      role.allowedActions = actions;
    },
    setAccountAlias(account, alias) {
      if (alias === null) aliases.delete(account);
      else aliases.set(account, alias);
    },
    setRegions(list) {
      regions = list;
    },
    upstream(region = 'us-east-1') {
      return { region, stsEndpoint: server.url, iamEndpoint: server.url, ec2Endpoint: server.url };
    },
  };
}

function hostPathOrIssuer(issuer: string): string {
  try {
    return issuerHostPath(issuer);
  } catch {
    return issuer;
  }
}
