# Multi-stage build of the manager: a static binary on a distroless base, run as non-root.
#
# Base images are pinned by digest, so a rebuild uses the bytes that were
# reviewed, not whatever a tag points at that day; the tag stays for readers.
# To move to a newer base, look the digest up (`crane digest golang:1.26.8`,
# `crane digest gcr.io/distroless/static:nonroot`) and change tag and digest
# together. hack/pinned-images.sh (in make verify) rejects an unpinned FROM.
FROM golang:1.26.8@sha256:3c3e25a4da13fd0478eed2df1eb35a0e667094a7124d3993a6a1d30f71c17e79 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags='-s -w' -o /out/manager ./cmd/manager

FROM gcr.io/distroless/static:nonroot@sha256:1c2c046bc09ed40fad370b599a0b1ae7987f55b01e247cf27a7c27cd97e5bbc7
COPY --from=build /out/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
