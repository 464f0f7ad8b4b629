# bucketmail container image: one static binary on distroless/static
# (no shell, no libc, runs as nonroot, uid 65532).
#
#   docker build --build-arg VERSION=$(make -s version) -t bucketmail .
#   docker buildx build --platform linux/amd64,linux/arm64 ...   (multi-arch)
#
# The roles take the standard ports only with CAP_NET_BIND_SERVICE; the
# Kubernetes manifests (infra/k8s) use unprivileged container ports instead.

# Fully qualified image names: podman and buildah have no default registry.
FROM --platform=$BUILDPLATFORM docker.io/library/golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /out/bucketmail ./cmd/bucketmail
# distroless has no shell to make the data directory: bring it, owned by
# nonroot, from here.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bucketmail /usr/local/bin/bucketmail
COPY --from=build --chown=65532:65532 /out/data /var/lib/bucketmail
ENV BUCKETMAIL_DATA_DIR=/var/lib/bucketmail
VOLUME ["/var/lib/bucketmail"]
EXPOSE 25 587 465 143 993 110 995 8080
# By number: a Kubernetes runAsNonRoot check cannot resolve a user name.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/bucketmail"]
CMD ["run"]
