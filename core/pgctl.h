/*
 * pgctl.h - tlsflow's own private PostgreSQL cluster
 *
 * With no `db' setting tlsflow keeps a cluster under STATE_DIR/pg: made by
 * initdb on first use, listening on a Unix socket in STATE_DIR/pg/run only
 * (no TCP), run as an unprivileged user when tlsflow runs as root (initdb
 * refuses root), and left running for the next command.
 */
#ifndef CORE_PGCTL_H
#define CORE_PGCTL_H

#include <stdbool.h>

#define PGCTL_DBNAME "tlsflow"
#define PGCTL_DBUSER "tlsflow"

/*
 * The libpq connection string to use: cf_db when set, else the private
 * cluster's, which is created and started first when `start' is true.
 * Returns a new string (caller frees), or NULL after logging why.
 */
char *pgctl_conninfo(bool start);
/* Stop the private cluster (fast shutdown).  Returns 0 or -1 (logged). */
int pgctl_stop(void);
/* True when the private cluster under the state directory is running. */
bool pgctl_running(void);

#endif /* CORE_PGCTL_H */
