# Rendered by the paas template builder for a static site (found index.html).
# Served by busybox httpd on $PORT. Commit your own Dockerfile to take over the build.
FROM {{BASE_IMAGE}}
ENV PORT=5000
COPY . /www
CMD ["/bin/sh", "-c", "exec httpd -f -p \"${PORT}\" -h /www"]
