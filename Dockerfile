# syntax=docker/dockerfile:1
# Forum Współpracy JST — static binary (templates, static files and migrations
# are embedded) on a distroless, non-root runtime image.
#
#   docker build -t forumjst .
#   docker compose up -d                         # app + PostgreSQL, see docker-compose.yml
#   docker compose run --rm app seed-demo        # demo data and logins

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/forumjst ./cmd/forumjst
# Upload directory owned by the runtime user, so a fresh named volume mounted
# on it inherits the ownership.
RUN mkdir -p /out/data/uploads

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/forumjst /forumjst
COPY --from=build --chown=65532:65532 /out/data /data
ENV FORUM_ADDR=:8080 \
	FORUM_UPLOAD_DIR=/data/uploads
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/forumjst"]
CMD ["serve"]
