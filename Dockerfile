# Production image: static binary without the embedded database (requires
# MONGODB_URI and TOKEN_ENCRYPTION_KEY), running as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -tags noembeddb -ldflags="-s -w" -o /out/devopsbot ./cmd/devopsbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/devopsbot /devopsbot
USER nonroot:nonroot
EXPOSE 3978
ENV PORT=3978
HEALTHCHECK NONE
ENTRYPOINT ["/devopsbot"]
