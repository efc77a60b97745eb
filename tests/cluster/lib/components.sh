# The control plane's components: their command lines, readiness checks and the files
# they read (certificates, kubeconfigs, configs). Sourced by `cluster`.
# shellcheck shell=bash

# Node heartbeats at fleet scale: KWOK renews each node's Lease every quarter of its
# duration, so 600 s leases cost 5,000 nodes ~33 writes/s instead of 500 at the
# kubelet's 40 s. The node-lifecycle controller must wait longer than a renewal.
node_lease_seconds=${CLUSTER_NODE_LEASE_SECONDS:-600}
node_grace_seconds=$((node_lease_seconds + 120))

# ---------------------------------------------------------------------------
# Certificates: one CA signs the API server's serving certificate (IP SAN 127.0.0.1).

make_pki() { # EC P-256 keys: generated in milliseconds, unlike RSA
  local san="IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  local k
  for k in "$pki_dir/ca.key" "$cert_dir/apiserver.key" "$pki_dir/sa.key"; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k" 2>/dev/null
    chmod 600 "$k"
  done
  openssl req -x509 -key "$pki_dir/ca.key" -days 30 -subj "/CN=cluster-harness-ca" -out "$ca_file" 2>/dev/null
  openssl req -new -key "$cert_dir/apiserver.key" -subj "/CN=kube-apiserver" -out "$cert_dir/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$cert_dir/apiserver.csr" -CA "$ca_file" -CAkey "$pki_dir/ca.key" \
    -CAcreateserial -days 30 -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") \
    -out "$cert_dir/serving.crt" 2>/dev/null
  openssl pkey -in "$pki_dir/sa.key" -pubout -out "$pki_dir/sa.pub" 2>/dev/null
  rm -f "$cert_dir/apiserver.csr"
}

# ---------------------------------------------------------------------------
# Command lines

start_etcd() {
  local -a wrap=()
  if [ "${CLUSTER_ETCD_FSYNC_DELAY_MS:-0}" != 0 ]; then
    [[ $CLUSTER_ETCD_FSYNC_DELAY_MS =~ ^[0-9]+$ ]] || die "CLUSTER_ETCD_FSYNC_DELAY_MS must be whole milliseconds"
    command -v strace >/dev/null || die "CLUSTER_ETCD_FSYNC_DELAY_MS needs strace (apt-get install strace)"
    # strace, told to stop, would detach and leave etcd running: the wrapper
    # passes SIGTERM on to etcd (strace's child) and waits for both.
    # shellcheck disable=SC2016  # expanded by the wrapper shell
    wrap=(bash -c 'trap "pkill -TERM -P \$tracer; wait" TERM; "$@" & tracer=$!; wait' etcd-slow-disk
          strace -f --seccomp-bpf -qq -o /dev/null -e trace=fsync,fdatasync
          -e inject=fsync,fdatasync:delay_exit=$((CLUSTER_ETCD_FSYNC_DELAY_MS * 1000)))
    log "etcd: every fsync delayed by ${CLUSTER_ETCD_FSYNC_DELAY_MS} ms (emulated disk)"
  fi
  spawn etcd "${wrap[@]}" "$bin_dir/etcd" \
    --name=default \
    --data-dir="$dir/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="default=http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster-state=new \
    --initial-cluster-token="cluster-$ETCD_PEER_PORT" \
    --listen-metrics-urls="" \
    --logger=zap --log-outputs=stderr --log-level=warn
}

# Writes (and every request of a --sa identity) at Metadata level: who (user, user
# agent), what (verb, object), when (stage timestamps) and the answer's code. Tests read
# DIR/audit.log to see which client wrote what, as the API server recorded it. Reads by
# the control plane are left out: they would dominate the file.
write_audit_policy() {
  cat >"$dir/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: Metadata
  userGroups: [system:serviceaccounts]
- level: None
EOF
}

start_apiserver() {
  write_audit_policy
  spawn kube-apiserver "$bin_dir/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$cert_dir/serving.crt" \
    --tls-private-key-file="$cert_dir/apiserver.key" \
    --client-ca-file="$ca_file" \
    --token-auth-file="$dir/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=OwnerReferencesPermissionEnforcement \
    --audit-policy-file="$dir/audit-policy.yaml" \
    --audit-log-path="$dir/audit.log" --audit-log-format=json \
    --audit-log-maxsize=200 --audit-log-maxbackup=1 \
    --service-account-key-file="$pki_dir/sa.pub" \
    --service-account-signing-key-file="$pki_dir/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=10.96.0.0/16 \
    --allow-privileged=true \
    --endpoint-reconciler-type=none \
    --profiling=false \
    --v=1
}

start_controller_manager() {
  spawn kube-controller-manager "$bin_dir/kube-controller-manager" \
    --kubeconfig="$dir/kubeconfig-controller-manager" \
    --service-account-private-key-file="$pki_dir/sa.key" \
    --root-ca-file="$ca_file" \
    --use-service-account-credentials=false \
    --controllers='*,-node-ipam-controller,-persistentvolume-attach-detach-controller' \
    --leader-elect=false \
    --bind-address=127.0.0.1 \
    --secure-port=0 \
    --node-monitor-grace-period="${node_grace_seconds}s" \
    --kube-api-qps=200 --kube-api-burst=400 \
    --concurrent-daemonset-syncs=4 \
    --v=1
}

start_scheduler() {
  cat >"$dir/scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $dir/kubeconfig-scheduler
  qps: 200
  burst: 400
leaderElection:
  leaderElect: false
EOF
  spawn kube-scheduler "$bin_dir/kube-scheduler" \
    --config="$dir/scheduler.yaml" \
    --bind-address=127.0.0.1 \
    --secure-port=0 \
    --v=1
}

# KWOK manages every Node (also those created with kubectl) and plays the Stages it
# reads from the API server (its Stage CRD, `--enable-crds=Stage`): KWOK's own node
# stages and the harness's pod stages, which `fail-pods` / `heal-pods` rewrite.
start_kwok() {
  spawn kwok "$bin_dir/kwok" \
    --kubeconfig="$dir/kubeconfig-kwok" \
    --enable-crds=Stage \
    --manage-all-nodes=true \
    --node-lease-duration-seconds="$node_lease_seconds" \
    --cidr=10.244.0.1/16 \
    --node-ip=127.0.0.1 \
    --server-address="127.0.0.1:$KWOK_PORT"
}

install_kwok_stages() {
  "$bin_dir/kubectl" --kubeconfig "$dir/kubeconfig" apply -f "$share_dir/kwok/kwok.x-k8s.io_stages.yaml" >/dev/null
  "$bin_dir/kubectl" --kubeconfig "$dir/kubeconfig" wait --for condition=established --timeout=30s \
    crd/stages.kwok.x-k8s.io >/dev/null
  apply_kwok_stages
}

apply_kwok_stages() {
  mkdir -p "$dir/kwok"
  python3 "$here/kwok-stages" --rules "$rules_file" --kwok-share "$share_dir/kwok" >"$dir/kwok/stages.yaml.tmp"
  mv "$dir/kwok/stages.yaml.tmp" "$dir/kwok/stages.yaml"
  "$bin_dir/kubectl" --kubeconfig "$dir/kubeconfig" apply -f "$dir/kwok/stages.yaml" >/dev/null
}

# ---------------------------------------------------------------------------
# Readiness

# curl against the API server with the admin token; prints the body.
api_get() {
  curl -sS --max-time 5 --cacert "$ca_file" -H "Authorization: Bearer $ADMIN_TOKEN" \
    "https://127.0.0.1:$APISERVER_PORT$1" 2>/dev/null
}

deadline=0
remaining() { echo $((deadline - $(date +%s))); }

# wait_until COMPONENT CHECK...: 0 when CHECK succeeds, 1 when COMPONENT exits, 2 on timeout.
wait_until() {
  local comp=$1; shift
  while :; do
    live_pid "$comp" >/dev/null || return 1
    "$@" && return 0
    [ "$(remaining)" -gt 0 ] || return 2
    sleep 0.2
  done
}

etcd_healthy() {
  curl -sS --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" 2>/dev/null | grep -q '"health":"true"'
}
apiserver_ready() { [ "$(api_get /readyz)" = ok ]; }
default_sa_exists() {
  api_get /api/v1/namespaces/default/serviceaccounts/default | grep -q '"kind": *"ServiceAccount"'
}
scheduler_running() { sleep 0.3; }
kwok_ready() {
  [ "$(curl -sS --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz" 2>/dev/null)" = ok ]
}

wait_etcd() { wait_until etcd etcd_healthy; }
wait_apiserver() { wait_until kube-apiserver apiserver_ready; }
wait_default_sa() { wait_until kube-controller-manager default_sa_exists; }
wait_scheduler() { wait_until kube-scheduler scheduler_running; }
wait_kwok() { wait_until kwok kwok_ready; }

# etcd's v3 JSON gateway (POST, int64 as strings).
etcd_call() {
  curl -sS --max-time 10 -X POST "http://127.0.0.1:$ETCD_CLIENT_PORT$1" -d "$2"
}

# ---------------------------------------------------------------------------
# Files clients read

write_ports() {
  cat >"$dir/ports" <<EOF
ETCD_CLIENT_PORT=$ETCD_CLIENT_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KWOK_PORT=$KWOK_PORT
EOF
}

write_kubeconfig() { # FILE USER TOKEN
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $ca_file
users:
- name: $2
  user:
    token: $3
contexts:
- name: local
  context:
    cluster: local
    user: $2
current-context: local
EOF
  chmod 600 "$1"
}

write_env() {
  {
    printf 'KUBECONFIG=%q\n' "$dir/kubeconfig"
    printf 'APISERVER_URL=%q\n' "https://127.0.0.1:$APISERVER_PORT"
    printf 'APISERVER_CA=%q\n' "$ca_file"
    printf 'ADMIN_TOKEN=%q\n' "$ADMIN_TOKEN"
    printf 'ETCD_ENDPOINT=%q\n' "http://127.0.0.1:$ETCD_CLIENT_PORT"
    printf 'CLUSTER_DIR=%q\n' "$dir"
    printf 'CLUSTER_BIN=%q\n' "$bin_dir"
  } >"$dir/env.tmp"
  mv "$dir/env.tmp" "$dir/env"
}

load_env() {
  [ -f "$dir/env" ] || die "$dir/env missing: no cluster was started in $dir"
  # shellcheck disable=SC1091
  . "$dir/env"
  load_ports
}
