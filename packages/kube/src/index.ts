export {
  ClusterError,
  type ClusterErrorReason,
  DEFAULT_REQUEST_TIMEOUT_MS,
  isClusterError,
  KubeCluster,
  type KubeClusterOptions,
  type KubeClusterSource,
  normaliseClusterError,
} from "./client.ts";
export {
  KUBECONFIG_MAX_BYTES,
  type KubeAuthType,
  KubeconfigError,
  type KubeconfigSummary,
  type ParseKubeconfigOptions,
  parseKubeconfig,
} from "./kubeconfig.ts";
