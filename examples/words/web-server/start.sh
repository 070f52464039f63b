#!/bin/sh
# Renders the site from its template with this container's resolvers and
# $APP_NAME, then runs NGINX in the foreground.
set -eu
RESOLVERS=$(awk '/^nameserver/ { printf "%s ", $2 }' /etc/resolv.conf)
export RESOLVERS APP_NAME
envsubst '${RESOLVERS} ${APP_NAME}' \
    </etc/nginx/templates/words.conf.template >/etc/nginx/conf.d/words.conf
exec nginx -g 'daemon off;'
