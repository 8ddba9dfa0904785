# The bakeoff binary as an image (bakeoff:local) for the generator Job of
# deploy/k8s/ and the `generator` services of docker-compose.yml:
#   docker build -f deploy/generator.Dockerfile -t bakeoff:local .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin bakeoff

FROM debian:bookworm-slim
COPY --from=build /src/target/release/bakeoff /usr/local/bin/bakeoff
WORKDIR /work
ENTRYPOINT []
CMD ["bakeoff", "--help"]
