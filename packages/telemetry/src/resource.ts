import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** Who a server is, as its traces and metrics say it. */
export interface ServerIdentity {
  /** e.g. `rtm-channel`. */
  serviceName: string;
  instanceId: string;
  region: string;
  /** `admin`, `channel`, `gateway` or `presence`, when known. */
  role?: string;
}

/** One resource for a server's traces and metrics alike, so both name it the same way. */
export function serverResource(o: ServerIdentity): Resource {
  return resourceFromAttributes({
    [ATTR_SERVICE_NAME]: o.serviceName,
    [ATTR_SERVICE_VERSION]: '0.1.0',
    'service.instance.id': o.instanceId,
    'cloud.region': o.region,
    'rtm.region': o.region,
    ...(o.role ? { 'rtm.role': o.role } : {}),
  });
}
