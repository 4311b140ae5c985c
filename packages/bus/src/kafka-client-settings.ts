import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';

/** How to reach Kafka and how to create topics on it: everything but who is asking. */
export interface KafkaClientSettings {
  brokers: string[];
  /** Copies of each partition of the topics the system creates (default 1). */
  replicationFactor?: number;
  /** Copies that must have a write before it is acknowledged (`min.insync.replicas`, default 1). */
  minInsyncReplicas?: number;
  /** TLS to the brokers: `true`, or the CA to trust. */
  ssl?: boolean | { ca: string[] };
  sasl?: SASLOptions;
}

const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, not ${JSON.stringify(text)}`);
  return n;
}

/**
 * Reads Kafka's client settings from the environment, the same for the launcher and every
 * server, so an external cluster is a matter of configuration alone:
 *
 *   RTM_KAFKA                      bootstrap list, `host:port,host:port`
 *   RTM_KAFKA_REPLICATION_FACTOR   copies of each partition of created topics (1)
 *   RTM_KAFKA_MIN_INSYNC_REPLICAS  copies a write needs before it is acked (1)
 *   RTM_KAFKA_SSL                  `1` for TLS; RTM_KAFKA_SSL_CA_FILE a PEM file of CAs to trust
 *   RTM_KAFKA_SASL_MECHANISM       plain, scram-sha-256 or scram-sha-512, with
 *   RTM_KAFKA_SASL_USERNAME / RTM_KAFKA_SASL_PASSWORD
 *
 * Throws naming the variable that is wrong; the password is never part of a message.
 */
export function kafkaClientSettings(env: NodeJS.ProcessEnv = process.env): KafkaClientSettings {
  const list = env.RTM_KAFKA?.trim();
  if (!list) throw new Error('missing environment variable RTM_KAFKA');
  const settings: KafkaClientSettings = { brokers: list.split(',').map((b) => b.trim()).filter(Boolean) };
  const factor = positive(env, 'RTM_KAFKA_REPLICATION_FACTOR');
  const minInsync = positive(env, 'RTM_KAFKA_MIN_INSYNC_REPLICAS');
  if (factor !== undefined) settings.replicationFactor = factor;
  if (minInsync !== undefined) settings.minInsyncReplicas = minInsync;
  if (minInsync !== undefined && minInsync > (factor ?? 1)) throw new Error(`RTM_KAFKA_MIN_INSYNC_REPLICAS (${minInsync}) is more than RTM_KAFKA_REPLICATION_FACTOR (${factor ?? 1}): no write could be acked`);
  if (env.RTM_KAFKA_SSL === '1' || env.RTM_KAFKA_SSL === 'true') {
    settings.ssl = env.RTM_KAFKA_SSL_CA_FILE ? { ca: [readFileSync(env.RTM_KAFKA_SSL_CA_FILE, 'utf8')] } : true;
  }
  const mechanism = env.RTM_KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  if (mechanism) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) throw new Error(`RTM_KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')}`);
    const username = env.RTM_KAFKA_SASL_USERNAME;
    const password = env.RTM_KAFKA_SASL_PASSWORD;
    if (!username || !password) throw new Error('RTM_KAFKA_SASL_MECHANISM needs RTM_KAFKA_SASL_USERNAME and RTM_KAFKA_SASL_PASSWORD');
    settings.sasl = { mechanism, username, password } as SASLOptions;
  }
  return settings;
}
