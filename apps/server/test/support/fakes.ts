import type { DemoUpstreams } from '../../src/sandbox/upstreams';

/** Requests every upstream fake has seen so far: unchanged across a call means it reached no upstream. */
export function upstreamRequests(up: DemoUpstreams): number {
  const { hf, hub, aws, gcp, azure, cloudflare } = up.fakes;
  return (
    hf.requests.length +
    hub.requests.length +
    aws.requests.length +
    gcp.requests.length +
    azure.login.requests.length +
    azure.arm.requests.length +
    cloudflare.server.requests.length
  );
}
