# Sourced by the chart tests that run against the shared control plane
# (tests/cluster/cluster up DIR; DIR in $CPO_TEST_CLUSTER). Provides:
#   k ARGS            kubectl as the cluster admin
#   helm_ ARGS        the platform's helm against the cluster, its state in a temp folder
#   fail MSG          print MSG (and the operator's log tail), exit 1
#   wait_for SECS WHAT CMD...   retry CMD until it succeeds, else fail "timed out: WHAT"
#   on_exit CMD       run CMD (a string) when the test exits, last registered first
#   new_namespace PREFIX [LABEL...]   a namespace deleted on exit; prints its name
#   add_gpu_node NAME [k=v...]        a KWOK GPU node (nvidia.com/gpu=8), removed on exit
#   start_operator NS SERVICEACCOUNT  the operator binary out of cluster, as a bound
#                     token of that ServiceAccount; stopped on exit
#   require_no_clusterpolicy          fail unless the cluster holds no ClusterPolicy
# Callers set: test_name, repo, operator_binary (for start_operator).
set -euo pipefail

dir=${CPO_TEST_CLUSTER:?CPO_TEST_CLUSTER must name the directory of a running test cluster}
[ -f "$dir/env" ] || { echo "$test_name: $dir/env missing: start the cluster with tests/cluster/cluster up $dir" >&2; exit 1; }
# shellcheck disable=SC1091
. "$dir/env"
kubectl_bin=$CLUSTER_BIN/kubectl
helm_bin=$CLUSTER_BIN/helm
cluster_cmd=$repo/tests/cluster/cluster
work=$(mktemp -d "/tmp/$test_name.XXXXXX")
operator_log=""
operator_pid=""

k() { "$kubectl_bin" --kubeconfig "$dir/kubeconfig" "$@"; }
helm_() {
  HELM_CACHE_HOME=$work/helm/cache HELM_CONFIG_HOME=$work/helm/config HELM_DATA_HOME=$work/helm/data \
    "$helm_bin" --kubeconfig "$dir/kubeconfig" "$@"
}
step() { echo "$test_name: $*"; }

_exit_cmds=()
on_exit() { _exit_cmds+=("$1"); }
_run_exit_cmds() {
  local rc=$? i
  for ((i = ${#_exit_cmds[@]} - 1; i >= 0; i--)); do eval "${_exit_cmds[i]}" >/dev/null 2>&1 || true; done
  rm -rf "$work"
  exit "$rc"
}
trap _run_exit_cmds EXIT

fail() {
  echo "$test_name: FAILED: $*" >&2
  if [ -n "$operator_log" ] && [ -f "$operator_log" ]; then
    echo "---- operator log (last 30 lines) ----" >&2
    tail -n 30 "$operator_log" >&2
  fi
  exit 1
}

wait_for() {
  local secs=$1 what=$2
  shift 2
  local end=$(($(date +%s) + secs))
  until "$@"; do
    [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${secs}s: $what"
    sleep 0.5
  done
}

new_namespace() {
  local ns
  ns="$1-$(tr -dc a-z0-9 </dev/urandom | head -c 6)"
  shift
  k create namespace "$ns" >/dev/null
  on_exit "k delete namespace $ns --wait=false"
  [ $# -eq 0 ] || k label namespace "$ns" "$@" >/dev/null
  echo "$ns"
}

add_gpu_node() {
  local name=$1
  shift
  "$cluster_cmd" add-node "$dir" "$name" nvidia.com/gpu.present=true "$@" --capacity nvidia.com/gpu=8 >/dev/null ||
    fail "cluster add-node $name failed"
  on_exit "'$cluster_cmd' remove-node '$dir' '$name'"
}

require_no_clusterpolicy() {
  local existing
  existing=$(k get clusterpolicies.nvidia.com -o name 2>/dev/null || true)
  [ -z "$existing" ] || fail "the shared cluster already holds a ClusterPolicy ($existing): another test left it behind"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A kubeconfig holding a real bound token of ServiceAccount NS/NAME and the cluster CA.
bound_kubeconfig() {
  local ns=$1 sa=$2 file=$work/kubeconfig-$1-$2 token
  token=$(k create token "$sa" -n "$ns" --duration=1h) || fail "kubectl create token $sa -n $ns failed"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $APISERVER_URL
    certificate-authority: $APISERVER_CA
users:
- name: $sa
  user:
    token: $token
contexts:
- name: $sa
  context:
    cluster: test
    user: $sa
    namespace: $ns
current-context: $sa
EOF
  echo "$file"
}

start_operator() {
  local ns=$1 sa=$2 kubeconfig health metrics
  kubeconfig=$(bound_kubeconfig "$ns" "$sa")
  # The token really is the ServiceAccount's.
  local user
  user=$("$kubectl_bin" --kubeconfig "$kubeconfig" auth whoami -o jsonpath='{.status.userInfo.username}') ||
    fail "the bound token of $ns/$sa does not authenticate"
  [ "$user" = "system:serviceaccount:$ns:$sa" ] || fail "bound token authenticates as '$user', expected system:serviceaccount:$ns:$sa"
  health=$(free_port)
  metrics=$(free_port)
  operator_log=$work/operator.log
  "$operator_binary" run --kubeconfig "$kubeconfig" --namespace "$ns" \
    --health-probe-bind-address "127.0.0.1:$health" --metrics-bind-address "127.0.0.1:$metrics" \
    --log-level debug >"$operator_log" 2>&1 &
  operator_pid=$!
  on_exit "stop_operator"
  operator_ready() {
    kill -0 "$operator_pid" 2>/dev/null || fail "the operator exited: $(tail -n 5 "$operator_log")"
    curl -sf "http://127.0.0.1:$health/readyz" >/dev/null 2>&1
  }
  wait_for 30 "the operator's /readyz" operator_ready
}

stop_operator() {
  [ -n "$operator_pid" ] || return 0
  kill "$operator_pid" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do kill -0 "$operator_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$operator_pid" 2>/dev/null || true
  wait "$operator_pid" 2>/dev/null || true
  operator_pid=""
}

# The operator's Warning/Error lines that mean the chart's RBAC denied it something.
forbidden_in_log() { grep -i "forbidden" "$operator_log" || true; }

# jsonpath of one object, empty when it does not exist.
get() { k get "$@" 2>/dev/null || true; }

# The operands' pod-template annotation naming the config snapshot they run.
config_hash() { # config_hash NS DAEMONSET
  k get daemonset "$2" -n "$1" -o jsonpath='{.spec.template.metadata.annotations.clusterpolicy-operator\.dev/config-hash}' 2>/dev/null || true
}

# GPU nodes a DaemonSet of the operator belongs on (the shared cluster may hold nodes
# of other tests): every nvidia.com/gpu.present=true node, for the MPS control daemon
# only those GPU Feature Discovery labelled nvidia.com/mps.capable=true.
gpu_node_count() { # gpu_node_count DAEMONSET
  local selector=nvidia.com/gpu.present=true
  [ "$1" != nvidia-device-plugin-mps-control-daemon ] || selector=$selector,nvidia.com/mps.capable=true
  k get nodes -l "$selector" -o name | grep -c . || true
}

# rolled_out_on_gpu_nodes NS DAEMONSET HASH: its pod template carries config HASH, the
# controller has seen it, and every GPU node runs an updated, available pod.
rolled_out_on_gpu_nodes() {
  local ns=$1 name=$2 want=$3 status gen observed desired updated available
  [ "$(config_hash "$ns" "$name")" = "$want" ] || return 1
  status=$(k get daemonset "$name" -n "$ns" -o jsonpath='{.metadata.generation} {.status.observedGeneration} {.status.desiredNumberScheduled} {.status.updatedNumberScheduled} {.status.numberAvailable}' 2>/dev/null) || return 1
  read -r gen observed desired updated available <<<"$status"
  [ -n "${available:-}" ] && [ "$gen" = "$observed" ] && [ "$desired" = "$(gpu_node_count "$name")" ] &&
    [ "$updated" = "$desired" ] && [ "$available" = "$desired" ]
}
