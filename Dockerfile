# clusterpolicy-operator container image.
#
#   docker build -t clusterpolicy-operator:0.1.0 .
#
# Stage 1 builds the operator with Debian bookworm's packaged toolchain and libraries;
# stage 2 carries only the binary and the shared libraries it links against.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake nlohmann-json3-dev libyaml-cpp-dev libssl-dev libboost-dev \
      libspdlog-dev libfmt-dev prometheus-cpp-dev catch2 libcli11-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Parallel compile jobs; each needs about 1 GiB of memory.
ARG JOBS=2
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCPO_BUILD_TESTS=OFF \
 && cmake --build build --target clusterpolicy-operator --parallel "${JOBS}"

FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="clusterpolicy-operator" \
      org.opencontainers.image.description="Reconciles NVIDIA ClusterPolicy into the device-plugin, MPS control-daemon and GPU Feature Discovery DaemonSets"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libyaml-cpp0.7 libssl3 libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/operator/clusterpolicy-operator /usr/local/bin/clusterpolicy-operator
# Fail the build if a shared library the binary needs is missing from this stage.
RUN ! ldd /usr/local/bin/clusterpolicy-operator | grep 'not found'
# Metrics (8080) and health probes (8081), as the Helm chart configures them.
EXPOSE 8080 8081
# Unprivileged, numeric so that runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/clusterpolicy-operator"]
CMD ["run"]
