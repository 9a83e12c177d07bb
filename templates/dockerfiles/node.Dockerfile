# Rendered by the paas template builder for a Node.js app (found package.json).
# Commit your own Dockerfile to take over the build.
FROM {{BASE_IMAGE}}
WORKDIR /app
ENV PORT=5000
{{DEPENDENCY_COPY}}
{{INSTALL}}
COPY . .
{{BUILD}}
ENV NODE_ENV=production
CMD {{CMD}}
