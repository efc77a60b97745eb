# clusterpolicy-operator container image.
#
#   docker build -t clusterpolicy-operator:0.1.0 .
#   scripts/build-image        (the same with buildah, no registry needed; see its --help)
#
# Stage `build` compiles the Release binary with Debian bookworm's packaged toolchain
# and libraries, then assembles the final root filesystem in /rootfs: the stripped
# binary, the dynamic loader and exactly the shared libraries `ldd` resolves for it
# (at the paths it resolves them to), the CA bundle, and passwd/group entries for
# uid/gid 65532 ("nonroot"). The final stage is `scratch` holding only that tree: no
# shell, no package manager, nothing writable needed (the chart runs it with a
# read-only root filesystem).
#
# Why dynamic and not static: bookworm ships yaml-cpp and prometheus-cpp as shared
# libraries only, and a static glibc cannot use NSS for host and user lookups, so a
# static build would mean building dependencies by hand and a binary with caveats.
# Copying what `ldd` lists keeps Debian's own, security-updated libraries and is as
# small (about 15 MB).

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev libyaml-dev libssl-dev libboost-dev \
      libspdlog-dev libfmt-dev prometheus-cpp-dev libcli11-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the operator's build reads (the tests are not built here).
COPY CMakeLists.txt ./
COPY operator ./operator
# Parallel compile jobs; each needs about 1 GiB of memory.
ARG JOBS=2
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCPO_BUILD_TESTS=OFF \
 && cmake --build /build --target clusterpolicy-operator --parallel "${JOBS}"

# The root filesystem of the final stage. ldd prints "name => /path (addr)" for each
# library and "/path (addr)" for the loader; every absolute path is copied with its
# directories, following symlinks. The OpenSSL directory's symlinks (cert.pem, certs)
# point at the bundle, so OpenSSL's default verify paths work as on Debian.
RUN set -eu \
 && bin=/rootfs/usr/local/bin/clusterpolicy-operator \
 && install -D -s -m 0755 /build/operator/clusterpolicy-operator "$bin" \
 && if ldd "$bin" | grep 'not found'; then exit 1; fi \
 && ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
      | while read -r lib; do cp -L --parents "$lib" /rootfs; done \
 && cp -L --parents /etc/ssl/certs/ca-certificates.crt /rootfs \
 && cp -P --parents /usr/lib/ssl/cert.pem /usr/lib/ssl/certs /rootfs \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
      > /rootfs/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group \
 && printf 'passwd: files\ngroup: files\nhosts: files dns\n' > /rootfs/etc/nsswitch.conf \
 && find /rootfs -printf '%M %u:%g %10s %p\n' | sort -k4

FROM scratch
# Keep in step with project(VERSION) in CMakeLists.txt; scripts/build-image passes it
# and checks that the binary reports the same.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="clusterpolicy-operator" \
      org.opencontainers.image.description="Reconciles NVIDIA ClusterPolicy into the device-plugin, MPS control-daemon and GPU Feature Discovery DaemonSets; validates and rolls out device-plugin config edits" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="scratch"
COPY --from=build /rootfs/ /
# Metrics (8443, HTTPS) and health probes (8081), as the Helm chart configures them.
EXPOSE 8443 8081
# Unprivileged and numeric, so that runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/clusterpolicy-operator"]
CMD ["run"]
