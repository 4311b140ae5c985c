#!/usr/bin/env node
import { join } from 'node:path';
import { Cluster, REPO_ROOT } from './cluster.js';
import { defaultPorts, parseRegions } from './cluster-config.js';
import { JaegerBuild, jaegerBuilt } from './jaeger-build.js';

/** The value of `--name N` or `--name=N` among `args`. */
function option(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(name.length + 3) : args[i + 1];
}

/**
 * `rtm up [--fresh] [--brokers N]`: starts the whole system on 127.0.0.1, prints the
 * endpoints, and stops every process it started on Ctrl-C or SIGTERM. `--brokers 3` runs a
 * replicated three-node Kafka; `RTM_KAFKA=host:port,...` uses an external one instead.
 */
async function up(args: string[]): Promise<void> {
  const brokers = Number(option(args, 'brokers') ?? process.env.RTM_KAFKA_BROKERS ?? 1);
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 9) {
    console.error(`[rtm] --brokers must be a whole number from 1 to 9`);
    process.exit(2);
  }
  const externalKafka = process.env.RTM_KAFKA?.trim() || undefined;
  const stateDir = process.env.RTM_STATE_DIR ?? join(REPO_ROOT, '.rtm');
  const toolsDir = process.env.RTM_TOOLS_DIR ?? join(REPO_ROOT, '.tools');
  const started = Date.now();
  const wantJaeger = process.env.RTM_JAEGER !== '0';
  // A fresh machine's first start does not wait minutes for Jaeger's Go build: the system
  // comes up without it and Jaeger joins when its background build is done.
  const jaegerBuild = wantJaeger && !jaegerBuilt(toolsDir) ? new JaegerBuild(REPO_ROOT, join(stateDir, 'logs', 'jaeger-build.log')) : undefined;
  const cluster = new Cluster({
    stateDir,
    toolsDir,
    ports: defaultPorts(process.env, brokers),
    ...(externalKafka ? { externalKafka } : {}),
    regions: parseRegions(process.env.RTM_REGIONS),
    ...(process.env.RTM_REGION_DISTANCES ? { regionDistances: process.env.RTM_REGION_DISTANCES } : {}),
    channelServers: Number(process.env.RTM_CHANNEL_SERVERS ?? 3),
    presenceServers: Number(process.env.RTM_PRESENCE_SERVERS ?? 2),
    jaeger: wantJaeger,
    deferJaeger: jaegerBuild !== undefined,
    fresh: args.includes('--fresh'),
    supervise: true,
    progress: (line) => console.log(`[rtm] ${line}`),
  });
  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    if (stopping) return;
    console.log(`\n[rtm] ${why}: stopping every process`);
    stopping = Promise.all([jaegerBuild?.stop(), cluster.stop()]).then(
      () => {
        console.log('[rtm] stopped');
        process.exit(0);
      },
      (err) => {
        console.error(`[rtm] error while stopping: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  try {
    const info = await cluster.start();
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`
[rtm] up in ${secs} s; state in ${stateDir}
  Web API        ${info.webApi}
  Operator API   ${info.adminApi}   (Authorization: Bearer ${info.operatorToken})
  Console        ${info.console}
  Jaeger API     ${info.jaeger}
  Kafka          ${info.kafka}
  Processes      ${info.processes.map((p) => `${p.id}(${p.pid})`).join(' ')}
  Demo users     ${info.demo.users.map((u) => u.name).join(', ')}; channels ${info.demo.channels.map((c) => `#${c.name}=${c.id}`).join(', ')}
  cluster.json   ${join(stateDir, 'cluster.json')}

Try:
  curl -s -H "Authorization: Bearer ${info.demo.users[0]?.token}" -d channel=${info.demo.channels[0]?.id} -d text=hello ${info.webApi}chat.postMessage
Press Ctrl-C to stop everything.`);
    if (jaegerBuild) void buildJaeger(jaegerBuild, cluster, () => stopping !== undefined, join(stateDir, 'logs', 'jaeger-build.log'));
  } catch (err) {
    console.error(`[rtm] start failed: ${err instanceof Error ? err.message : String(err)}`);
    stop('start failed');
    await stopping;
    process.exit(1);
  }
}

/** Builds Jaeger in the background, then starts it: traces are kept from then on. */
async function buildJaeger(build: JaegerBuild, cluster: Cluster, stopping: () => boolean, log: string): Promise<void> {
  console.log(`[rtm] Jaeger is not built yet (first start): building it in the background, traces are kept once it is up; progress in ${log}`);
  const { code, seconds } = await build.run();
  if (stopping()) return;
  if (code !== 0) return void console.error(`[rtm] Jaeger's build failed (exit ${code}) after ${seconds} s; see ${log}. The system runs on without traces.`);
  try {
    await cluster.startJaeger();
    console.log(`[rtm] Jaeger built in ${seconds} s and up: ${cluster.jaeger?.queryUrl}`);
  } catch (err) {
    console.error(`[rtm] Jaeger did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const [command = 'up', ...rest] = process.argv.slice(2);
if (command === 'up') await up(rest);
else {
  console.error(`usage: rtm up [--fresh] [--brokers N]`);
  process.exit(2);
}
