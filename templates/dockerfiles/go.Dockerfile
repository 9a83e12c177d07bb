# Rendered by the paas template builder for a Go app (found go.mod).
# Commit your own Dockerfile to take over the build.
FROM {{BASE_IMAGE}}
WORKDIR /src
ENV CGO_ENABLED=0 PORT=5000
{{DEPENDENCY_COPY}}
{{INSTALL}}
COPY . .
{{BUILD}}
CMD {{CMD}}
