# Rendered by the paas template builder for a Python app (found {{DETECTED_BY}}).
# Commit your own Dockerfile to take over the build.
FROM {{BASE_IMAGE}}
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=5000
{{DEPENDENCY_COPY}}
{{INSTALL}}
COPY . .
{{BUILD}}
CMD {{CMD}}
