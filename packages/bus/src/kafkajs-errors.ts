/** kafkajs's names for an error that says a broker cannot be reached (killed, restarting, or not answering). */
const UNREACHABLE: ReadonlySet<string> = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound']);

/** Whether kafkajs's error says its broker cannot be reached. */
export function brokerUnreachable(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name !== undefined && UNREACHABLE.has(name);
}
