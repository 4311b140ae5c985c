import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

// OpenTelemetry's Prometheus compatibility rules put the unit in the name (`_seconds`,
// `_bytes`); the exporter of this SDK version only writes a `# UNIT` line, which most
// scrapers ignore, so the suffix is added here before serializing.
const SUFFIXES: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes' };

/** `rtm.message.hop.duration` with unit `s` becomes `rtm.message.hop.duration_seconds`; names that already say their unit stay. */
export function withUnitSuffix(name: string, unit: string | undefined): string {
  const suffix = unit ? SUFFIXES[unit] : undefined;
  if (!suffix) return name;
  return name.endsWith(`_${suffix}`) || name.endsWith(`.${suffix}`) ? name : `${name}_${suffix}`;
}

/** A copy of collected metrics whose names carry their units. */
export function withUnitSuffixes(rm: ResourceMetrics): ResourceMetrics {
  return {
    ...rm,
    scopeMetrics: rm.scopeMetrics.map((sm) => ({
      ...sm,
      metrics: sm.metrics.map((m) => ({ ...m, descriptor: { ...m.descriptor, name: withUnitSuffix(m.descriptor.name, m.descriptor.unit) } })),
    })),
  };
}
