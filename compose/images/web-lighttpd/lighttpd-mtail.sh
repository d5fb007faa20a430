#!/bin/bash
# lighttpd's piped access logger: mtail reading the log on its standard input (a pipe from lighttpd), serving its
# counters on :9113 (the web server exporter's port, which the firewall opens to monitoring only). lighttpd starts it
# (and starts it again if it exits) after dropping to www-data. glog: warnings and errors to stderr, nothing to files.
# /dev/stdin, not "-": this mtail (3.0.0~rc50) never reads a "-"; the path resolves to the pipe, which it reads.
exec mtail --progs /etc/faultline/mtail --logs /dev/stdin --port 9113 --logtostderr=false --alsologtostderr=false \
  --stderrthreshold=WARNING --log_dir=/tmp --emit_prog_label=false
