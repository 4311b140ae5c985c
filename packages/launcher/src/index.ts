export { Cluster, REPO_ROOT, type ClusterInfo, type ClusterOptions, type ProcessInfo, type DemoWorkspace, type Role } from './cluster.js';
export { defaultPorts, testPorts, parseRegions, type ClusterPorts, type RegionSpec } from './cluster-config.js';
export { KafkaBroker, BROKER_OVERRIDES, brokerOverrides, replicationOf, kafkaLibsDir, type BrokerOptions } from './kafka-broker.js';
export { KafkaCluster, type KafkaClusterOptions, type KafkaNodeEvent } from './kafka-cluster.js';
export { JaegerServer, jaegerBinary, type JaegerOptions } from './jaeger-server.js';
export { scratchCluster, type ScratchCluster } from './scratch-cluster.js';
export { prometheusTargets, type TargetGroup } from './prometheus-targets.js';
