/*
 * db.c: runs database reads for one worker (SPEC 8.10, 8.6); the only
 * file that includes sqlite3.h or libpq-fe.h.
 *
 * Why ~1,300 lines in one file: it is the one module allowed to include
 * the two database libraries (STYLE.md, "Module boundaries"), and both
 * backends share the job queue, the cancel path and introspection; the
 * pure parts already live apart (dbsql.c builds SQL, dbval.c converts
 * values, dbconf.c reads the config).  Every function stays short.
 *
 * A read (db_req) first learns its table's columns (introspection,
 * cached per db), then compiles its argument sets with dbsql_plan and
 * runs each statement as a job on the database's backend.  Each job
 * ends in exactly one job_done() on the event loop, which answers the
 * read's sets that the statement covered; sets that failed before SQL
 * are answered from a zero-timeout event, so no callback ever runs
 * inside db_read.  A cancelled read is freed at once; its running jobs
 * are orphaned (job->req NULL), cancelled on the server and freed when
 * they end.
 *
 * SQLite: one thread per database runs the jobs in order on a read-only
 * handle and hands them back through a pipe watched by the loop, so the
 * loop never waits for SQLite.  The thread owns the handle; the loop
 * touches it only for sqlite3_interrupt, under the mutex, while a job
 * runs.
 *
 * PostgreSQL: up to max_conns connections, each connected lazily with
 * PQconnectStartParams/PQconnectPoll and driven by libevent socket
 * events; queued jobs wait for an idle connection.  Sessions are read-
 * only with TimeZone UTC (dbval.c relies on it).  A connection that
 * fails is dropped and the next job reconnects.  A batch that fails on
 * a value (SQLSTATE class 22) is re-run set by set.  Messages given to
 * callers never contain the connection string; logged libpq messages
 * have the password blanked, and are not logged at all when the
 * connection string does not parse (they may quote it).  libpq resolves
 * a host name with a blocking getaddrinfo: give hosts as addresses (or
 * hostaddr) to keep the loop free.
 *
 * The file is longer than most because it alone may include the two
 * libraries' headers (STYLE.md, module boundaries).
 */
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "db.h"
#include "dbval.h"
#include "log.h"
#include "util.h"

#define DB_CONNECT_SECS	10

enum jstate { J_QUEUED, J_RUNNING, J_DONE };
enum pgstate { PG_NONE, PG_CONNECTING, PG_IDLE, PG_BUSY, PG_CANCELWAIT };
enum { CANCEL_RUNNING, CANCEL_DONE, CANCEL_ORPHANED };

/*
 * A cancel request in flight on its own thread (PQcancel blocks).  The
 * connection is not reused until it is done: a late request would
 * cancel the next statement.  Whichever of the thread and the
 * connection lets go last frees it.
 */
struct pgcancel {
	PGcancel	*pc;
	atomic_int	 state;
};

struct job {
	TAILQ_ENTRY(job)	 entry;		/* backend queue */
	TAILQ_ENTRY(job)	 rentry;	/* the read's jobs */
	struct db		*db;
	struct db_req		*req;		/* NULL: orphaned */
	struct dbsql_stmt	 st;
	int			 introspect;
	int			 single;	/* one set, re-run alone */
	enum jstate		 state;
	struct json_object	*rows;		/* arrays of values */
	struct db_error		 err;
	struct pgconn		*conn;
};
TAILQ_HEAD(jobq, job);

struct db_req {
	TAILQ_ENTRY(db_req)	 entry;
	struct db		*db;
	db_cb			 cb;
	void			*arg;
	char			*table;
	char			**select;
	size_t			 nselect;
	int			 has_select;
	int			 check_select;
	struct dbsql_args	*args;
	size_t			 nargs;
	struct dbsql_plan	 plan;
	struct jobq		 jobs;
	size_t			 pending;	/* callbacks owed */
	struct event		*ev;		/* failed sets */
	struct db_error		 early;	/* for every set */
	int			 in_cb;
	int			 cancelled;
};

struct pgconn {
	struct db		*db;
	PGconn			*c;
	enum pgstate		 state;
	struct event		*ev;
	struct job		*job;
	struct pgcancel		*cancel;
};

struct lite {
	pthread_t		 thr;
	int			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct jobq		 todo;
	struct jobq		 done;
	struct job		*running;
	sqlite3			*h;
	char			*path;
	int			 quit;
	int			 fds[2];
	struct event		*ev;
};

struct db {
	struct event_base	*base;
	const struct dbconf	*conf;
	TAILQ_HEAD(, db_req)	 reqs;
	struct dbsql_table	*tables;	/* introspected */
	size_t			 ntables;
	unsigned long		 nstmts;
	struct lite		 lite;
	struct pgconn		*conns;
	struct jobq		 pgq;
	struct event		*ev_dispatch;
	char			*password;	/* to blank in logs */
	int			 conn_parses;
};

static void	 job_done(struct job *);
static void	 pg_cancel_wait(struct pgconn *);
static const struct dbsql_table *find_table(const struct db *,
		    const char *);
static void	 pg_dispatch(struct db *);

static void
job_free(struct job *j)
{
	dbsql_stmt_free(&j->st);
	json_object_put(j->rows);
	free(j);
}

/* ---- SQLite: one thread per database ---- */

/* One value by its storage class (SPEC 8.10). */
static struct json_object *
lite_value(sqlite3_stmt *s, int i)
{
	struct json_object	*o;
	char			*b64;

	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return (json_object_new_int64(sqlite3_column_int64(s, i)));
	case SQLITE_FLOAT:
		return (json_object_new_double(sqlite3_column_double(s, i)));
	case SQLITE_TEXT:
		return (json_object_new_string_len((const char *)
		    sqlite3_column_text(s, i), sqlite3_column_bytes(s, i)));
	case SQLITE_BLOB:
		b64 = dbsql_base64(sqlite3_column_blob(s, i),
		    (size_t)sqlite3_column_bytes(s, i));
		o = b64 ? json_object_new_string(b64) : NULL;
		free(b64);
		return (o);
	default:
		return (NULL);
	}
}

static int
lite_bind(sqlite3_stmt *s, const struct dbsql_stmt *st)
{
	const struct dbsql_param	*p;
	size_t				 i;
	int				 rc = SQLITE_OK;

	for (i = 0; i < st->nparams && rc == SQLITE_OK; i++) {
		p = &st->params[i];
		switch (p->kind) {
		case DBSQL_PINT:
		case DBSQL_PBOOL:
			rc = sqlite3_bind_int64(s, (int)i + 1, p->i);
			break;
		case DBSQL_PREAL:
			rc = sqlite3_bind_double(s, (int)i + 1, p->d);
			break;
		case DBSQL_PTEXT:
			rc = sqlite3_bind_text(s, (int)i + 1, p->s, -1,
			    SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_null(s, (int)i + 1);
		}
	}
	return (rc);
}

/* Open the handle if needed; runs on the thread. */
static int
lite_open(struct lite *l, struct job *j)
{
	sqlite3	*h = NULL;
	int	 rc;

	if (l->h != NULL)
		return (0);
	rc = sqlite3_open_v2(l->path, &h, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK) {
		dbsql_seterr(&j->err, DB_DATABASE_ERROR, "cannot open the "
		    "database: %s", sqlite3_errstr(rc));
		sqlite3_close(h);
		return (-1);
	}
	sqlite3_busy_timeout(h, 1000);
	pthread_mutex_lock(&l->mu);
	l->h = h;
	pthread_mutex_unlock(&l->mu);
	return (0);
}

/* Run job j on the thread: j->rows or j->err. */
static void
lite_run(struct lite *l, struct job *j)
{
	struct json_object	*row;
	sqlite3_stmt		*s = NULL;
	int			 rc, i, n;

	if (lite_open(l, j) == -1)
		return;
	rc = sqlite3_prepare_v2(l->h, j->st.sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = lite_bind(s, &j->st);
	if (rc == SQLITE_OK && (j->rows = json_object_new_array()) == NULL)
		rc = SQLITE_NOMEM;
	n = s ? sqlite3_column_count(s) : 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = json_object_new_array_ext(n);
		for (i = 0; i < n; i++)
			json_object_array_add(row, lite_value(s, i));
		json_object_array_add(j->rows, row);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		dbsql_seterr(&j->err, DB_DATABASE_ERROR,
		    rc == SQLITE_INTERRUPT ? "statement cancelled" :
		    "query failed: %s",
		    sqlite3_errmsg(l->h));
	sqlite3_finalize(s);
}

static void *
lite_main(void *arg)
{
	struct lite	*l = arg;
	struct job	*j;
	char		 c = 1;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->quit && TAILQ_EMPTY(&l->todo))
			pthread_cond_wait(&l->cv, &l->mu);
		if (l->quit)
			break;
		j = TAILQ_FIRST(&l->todo);
		TAILQ_REMOVE(&l->todo, j, entry);
		j->state = J_RUNNING;
		l->running = j;
		pthread_mutex_unlock(&l->mu);
		lite_run(l, j);
		pthread_mutex_lock(&l->mu);
		l->running = NULL;
		j->state = J_DONE;
		TAILQ_INSERT_TAIL(&l->done, j, entry);
		while (write(l->fds[1], &c, 1) == -1 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&l->mu);
	if (l->h != NULL)
		sqlite3_close(l->h);
	l->h = NULL;
	return (NULL);
}

/* The loop side: jobs the thread finished. */
static void
lite_ready(evutil_socket_t fd, short what, void *arg)
{
	struct db	*db = arg;
	struct jobq	 q;
	struct job	*j;
	char		 buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	TAILQ_INIT(&q);
	pthread_mutex_lock(&db->lite.mu);
	TAILQ_CONCAT(&q, &db->lite.done, entry);
	pthread_mutex_unlock(&db->lite.mu);
	while ((j = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, j, entry);
		job_done(j);
	}
}

static int
lite_start(struct db *db)
{
	struct lite	*l = &db->lite;
	sigset_t	 all, old;
	int		 rc;

	if (pipe2(l->fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		l->fds[0] = l->fds[1] = -1;
		return (-1);
	}
	l->ev = event_new(db->base, l->fds[0], EV_READ | EV_PERSIST,
	    lite_ready, db);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1)
		return (-1);
	/* the thread takes no signals: the worker's loop handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&l->thr, NULL, lite_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return (-1);
	l->started = 1;
	return (0);
}

static void
lite_stop(struct db *db)
{
	struct lite	*l = &db->lite;
	struct job	*j;

	if (l->started) {
		pthread_mutex_lock(&l->mu);
		l->quit = 1;
		if (l->h != NULL)
			sqlite3_interrupt(l->h);
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thr, NULL);
	}
	while ((j = TAILQ_FIRST(&l->todo)) != NULL) {
		TAILQ_REMOVE(&l->todo, j, entry);
		job_free(j);
	}
	while ((j = TAILQ_FIRST(&l->done)) != NULL) {
		TAILQ_REMOVE(&l->done, j, entry);
		job_free(j);
	}
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->fds[0] != l->fds[1]) {
		close(l->fds[0]);
		close(l->fds[1]);
	}
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->path);
}

/* Cancel j (its read is gone): drop it if queued, interrupt if running. */
static void
lite_cancel(struct db *db, struct job *j)
{
	struct lite	*l = &db->lite;

	pthread_mutex_lock(&l->mu);
	if (j->state == J_QUEUED) {
		TAILQ_REMOVE(&l->todo, j, entry);
		pthread_mutex_unlock(&l->mu);
		job_free(j);
		return;
	}
	if (j->state == J_RUNNING && l->running == j && l->h != NULL)
		sqlite3_interrupt(l->h);
	pthread_mutex_unlock(&l->mu);
}

/* ---- PostgreSQL: a pool of asynchronous connections ---- */

/* Log a libpq message with the password blanked. */
static void
pg_log(struct db *db, const char *what, const char *msg)
{
	struct sybuf	 b;
	const char	*p;
	size_t		 pl = db->password ? strlen(db->password) : 0;

	if (!db->conn_parses)
		msg = "the connection string does not parse";
	sybuf_init(&b);
	while (*msg != '\0') {
		if (pl > 0 && strncmp(msg, db->password, pl) == 0) {
			sybuf_addstr(&b, "***");
			msg += pl;
			continue;
		}
		p = msg++;
		if (*p != '\n')
			sybuf_addc(&b, *p);
		else if (*msg != '\0')
			sybuf_addstr(&b, " ");
	}
	log_warnx("database %s: %s: %s", db->conf->alias, what,
	    b.data ? b.data : "");
	sybuf_free(&b);
}

/* The connection lets go of its cancel request, done or not. */
static void
pg_cancel_release(struct pgconn *pc)
{
	if (pc->cancel != NULL && atomic_exchange(&pc->cancel->state,
	    CANCEL_ORPHANED) == CANCEL_DONE)
		free(pc->cancel);
	pc->cancel = NULL;
}

static void
pg_drop(struct pgconn *pc)
{
	pg_cancel_release(pc);
	if (pc->ev != NULL)
		event_free(pc->ev);
	pc->ev = NULL;
	if (pc->c != NULL)
		PQfinish(pc->c);
	pc->c = NULL;
	pc->state = PG_NONE;
}

static void	pg_event(evutil_socket_t, short, void *);

static int
pg_watch(struct pgconn *pc, short what, int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (pc->ev != NULL)
		event_free(pc->ev);
	pc->ev = event_new(pc->db->base, PQsocket(pc->c), what, pg_event, pc);
	if (pc->ev == NULL || event_add(pc->ev, secs ? &tv : NULL) == -1)
		return (-1);
	return (0);
}

/* Fail the queue when no connection is left to serve it. */
static void
pg_connect_failed(struct pgconn *pc)
{
	struct db	*db = pc->db;
	struct job	*j;
	size_t		 i;

	pg_log(db, "cannot connect", pc->c ? PQerrorMessage(pc->c) :
	    "out of memory");
	pg_drop(pc);
	for (i = 0; i < (size_t)db->conf->max_conns; i++)
		if (db->conns[i].state != PG_NONE)
			return;
	while ((j = TAILQ_FIRST(&db->pgq)) != NULL) {
		TAILQ_REMOVE(&db->pgq, j, entry);
		j->state = J_DONE;
		dbsql_seterr(&j->err, DB_DATABASE_ERROR,
		    "cannot connect to database \"%s\"", db->conf->alias);
		job_done(j);
	}
}

static void
pg_connect(struct pgconn *pc)
{
	const char *const keys[] = { "dbname", "options", "client_encoding",
	    "application_name", NULL };
	const char *vals[] = { pc->db->conf->conn,
	    "-c default_transaction_read_only=on -c TimeZone=UTC "
	    "-c DateStyle=ISO -c IntervalStyle=postgres "
	    "-c extra_float_digits=3 -c bytea_output=hex",
	    "UTF8", "switchyard", NULL };

	pc->c = PQconnectStartParams(keys, vals, 1);
	pc->state = PG_CONNECTING;
	if (pc->c == NULL || PQstatus(pc->c) == CONNECTION_BAD ||
	    PQsetnonblocking(pc->c, 1) == -1 ||
	    pg_watch(pc, EV_WRITE, DB_CONNECT_SECS) == -1)
		pg_connect_failed(pc);
}

static void
pg_connect_step(struct pgconn *pc, short what)
{
	PostgresPollingStatusType	 r;

	if (what & EV_TIMEOUT) {
		pg_connect_failed(pc);
		return;
	}
	r = PQconnectPoll(pc->c);
	if (r == PGRES_POLLING_READING || r == PGRES_POLLING_WRITING) {
		if (pg_watch(pc, r == PGRES_POLLING_READING ? EV_READ :
		    EV_WRITE, DB_CONNECT_SECS) == -1)
			pg_connect_failed(pc);
		return;
	}
	if (r != PGRES_POLLING_OK) {
		pg_connect_failed(pc);
		return;
	}
	pc->state = PG_IDLE;
	if (pg_watch(pc, EV_READ | EV_PERSIST, 0) == -1)
		pg_drop(pc);
	pg_dispatch(pc->db);
}

/* A result of the running statement. */
static void
pg_take(struct job *j, PGresult *res)
{
	const char	*state, *msg;
	int		 r, f, nr, nf;
	struct json_object *row;

	if (j->err.code != DB_OK || j->rows != NULL)
		return;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		nr = PQntuples(res);
		nf = PQnfields(res);
		j->rows = json_object_new_array_ext(nr);
		for (r = 0; r < nr && j->rows != NULL; r++) {
			row = json_object_new_array_ext(nf);
			for (f = 0; f < nf; f++)
				json_object_array_add(row, PQgetisnull(res, r,
				    f) ? NULL : dbval_pg(PQftype(res, f),
				    PQgetvalue(res, r, f),
				    (size_t)PQgetlength(res, r, f)));
			json_object_array_add(j->rows, row);
		}
		return;
	}
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		return;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (state != NULL && strncmp(state, "22", 2) == 0)
		dbsql_seterr(&j->err, DB_BAD_USER_INPUT, "%s", msg ? msg :
		    "invalid value");
	else if (state != NULL && strcmp(state, "57014") == 0)
		dbsql_seterr(&j->err, DB_DATABASE_ERROR, "statement cancelled");
	else
		dbsql_seterr(&j->err, DB_DATABASE_ERROR, "query failed: %s",
		    msg ? msg : "unknown error");
}

/*
 * A cancelled statement ended: the connection becomes idle once its
 * cancel request is done (polled every 5 ms; it takes one round trip).
 */
static void
pg_cancel_wait(struct pgconn *pc)
{
	struct timeval	 tv = { 0, 5000 };

	if (atomic_load(&pc->cancel->state) == CANCEL_DONE) {
		pg_cancel_release(pc);
		pc->state = PG_IDLE;
		if (pg_watch(pc, EV_READ | EV_PERSIST, 0) == -1)
			pg_drop(pc);
		event_active(pc->db->ev_dispatch, 0, 0);
		return;
	}
	if (pc->ev != NULL)
		event_free(pc->ev);
	pc->ev = event_new(pc->db->base, -1, 0, pg_event, pc);
	if (pc->ev == NULL || event_add(pc->ev, &tv) == -1)
		pg_drop(pc);
}

/* The running statement ended (or the connection died). */
static void
pg_finish(struct pgconn *pc, int lost)
{
	struct job	*j = pc->job;

	pc->job = NULL;
	if (lost || PQstatus(pc->c) == CONNECTION_BAD) {
		if (j->err.code == DB_OK)
			dbsql_seterr(&j->err, DB_DATABASE_ERROR,
			    "connection to the database lost");
		pg_log(pc->db, "connection lost", PQerrorMessage(pc->c));
		pg_drop(pc);
	} else if (pc->cancel != NULL) {
		pc->state = PG_CANCELWAIT;
		pg_cancel_wait(pc);
	} else {
		pc->state = PG_IDLE;
		if (pg_watch(pc, EV_READ | EV_PERSIST, 0) == -1)
			pg_drop(pc);
	}
	j->state = J_DONE;
	j->conn = NULL;
	job_done(j);
	event_active(pc->db->ev_dispatch, 0, 0);
}

static void
pg_io(struct pgconn *pc, short what)
{
	PGresult	*res;
	int		 r;

	if (what & EV_WRITE) {
		if ((r = PQflush(pc->c)) == -1) {
			pg_finish(pc, 1);
			return;
		}
		if (r == 0 && pg_watch(pc, EV_READ | EV_PERSIST, 0) == -1) {
			pg_finish(pc, 1);
			return;
		}
	}
	if ((what & EV_READ) && PQconsumeInput(pc->c) == 0) {
		pg_finish(pc, 1);
		return;
	}
	while (!PQisBusy(pc->c)) {
		if ((res = PQgetResult(pc->c)) == NULL) {
			pg_finish(pc, 0);
			return;
		}
		pg_take(pc->job, res);
		PQclear(res);
	}
}

static void
pg_event(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn	*pc = arg;

	switch (pc->state) {
	case PG_CONNECTING:
		pg_connect_step(pc, what);
		break;
	case PG_BUSY:
		pg_io(pc, what);
		break;
	case PG_CANCELWAIT:
		pg_cancel_wait(pc);
		break;
	case PG_IDLE:
		/* an idle connection that reads EOF is dead */
		if (PQconsumeInput(pc->c) == 0 ||
		    PQstatus(pc->c) == CONNECTION_BAD) {
			pg_log(pc->db, "connection lost",
			    PQerrorMessage(pc->c));
			pg_drop(pc);
		}
		break;
	default:
		break;
	}
}

static void
pg_send(struct pgconn *pc, struct job *j)
{
	const char	**vals;
	size_t		  i;
	int		  r = -1;

	j->state = J_RUNNING;
	j->conn = pc;
	pc->job = j;
	pc->state = PG_BUSY;
	pc->db->nstmts++;
	vals = calloc(j->st.nparams + 1, sizeof(*vals));
	for (i = 0; vals != NULL && i < j->st.nparams; i++)
		vals[i] = j->st.params[i].text;
	if (vals != NULL && PQsendQueryParams(pc->c, j->st.sql,
	    (int)j->st.nparams, NULL, vals, NULL, NULL, 0) == 1)
		r = PQflush(pc->c);
	free(vals);
	if (r == -1 || pg_watch(pc, r == 1 ? EV_READ | EV_WRITE | EV_PERSIST :
	    EV_READ | EV_PERSIST, 0) == -1)
		pg_finish(pc, 1);
}

/* Give queued jobs to idle connections; connect more when needed. */
static void
pg_dispatch(struct db *db)
{
	struct job	*j;
	size_t		 i, n = (size_t)db->conf->max_conns, queued = 0;
	size_t		 connecting = 0;

	for (i = 0; i < n && !TAILQ_EMPTY(&db->pgq); i++) {
		if (db->conns[i].state != PG_IDLE)
			continue;
		j = TAILQ_FIRST(&db->pgq);
		TAILQ_REMOVE(&db->pgq, j, entry);
		pg_send(&db->conns[i], j);
	}
	TAILQ_FOREACH(j, &db->pgq, entry)
		queued++;
	for (i = 0; i < n; i++)
		connecting += db->conns[i].state == PG_CONNECTING;
	for (i = 0; i < n && connecting < queued; i++) {
		if (db->conns[i].state != PG_NONE)
			continue;
		connecting++;
		pg_connect(&db->conns[i]);
	}
}

static void
pg_dispatch_cb(evutil_socket_t fd, short what, void *arg)
{
	pg_dispatch(arg);
}

/* Ask the server to cancel, off the loop: PQcancel blocks. */
static void *
pg_cancel_main(void *arg)
{
	struct pgcancel	*c = arg;
	char		 buf[256];

	PQcancel(c->pc, buf, sizeof(buf));
	PQfreeCancel(c->pc);
	if (atomic_exchange(&c->state, CANCEL_DONE) == CANCEL_ORPHANED)
		free(c);
	return (NULL);
}

static void
pg_cancel(struct db *db, struct job *j)
{
	struct pgconn	*pc = j->conn;
	struct pgcancel	*c;
	pthread_attr_t	 attr;
	pthread_t	 t;
	sigset_t	 all, old;
	int		 rc = -1;

	if (j->state == J_QUEUED) {
		TAILQ_REMOVE(&db->pgq, j, entry);
		job_free(j);
		return;
	}
	if (pc == NULL || pc->cancel != NULL)
		return;
	if ((c = calloc(1, sizeof(*c))) != NULL &&
	    (c->pc = PQgetCancel(pc->c)) != NULL) {
		atomic_init(&c->state, CANCEL_RUNNING);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&t, &attr, pg_cancel_main, c);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	if (rc == 0) {
		pc->cancel = c;
		return;
	}
	if (c != NULL && c->pc != NULL)
		PQfreeCancel(c->pc);
	free(c);
	/* no cancel request: closing the connection ends the statement */
	pc->job = NULL;
	pg_drop(pc);
	job_free(j);
	event_active(db->ev_dispatch, 0, 0);
}

/* The password in conf->conn, kept to blank it in logged messages. */
static void
pg_find_password(struct db *db)
{
	PQconninfoOption	*o, *opts;

	if ((opts = PQconninfoParse(db->conf->conn, NULL)) == NULL)
		return;
	db->conn_parses = 1;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    *o->val != '\0')
			db->password = strdup(o->val);
	PQconninfoFree(opts);
}

/* ---- reads ---- */

static void
req_free(struct db_req *r)
{
	size_t	 i;

	TAILQ_REMOVE(&r->db->reqs, r, entry);
	if (r->ev != NULL)
		event_free(r->ev);
	for (i = 0; i < r->nargs; i++) {
		json_object_put(r->args[i].where);
		json_object_put(r->args[i].sort);
		json_object_put(r->args[i].limit);
		json_object_put(r->args[i].skip);
		json_object_put(r->args[i].op);
	}
	free(r->args);
	for (i = 0; i < r->nselect; i++)
		free(r->select[i]);
	free(r->select);
	free(r->table);
	dbsql_plan_free(&r->plan);
	free(r);
}

/* One part of a read's answer being put together. */
struct answer {
	size_t			 n;
	size_t			*sets;
	struct json_object	**rows;
	struct db_error		*errs;
};

static void
answer_init(struct answer *a, size_t nargs)
{
	a->n = 0;
	a->sets = xcalloc(nargs + 1, sizeof(*a->sets));
	a->rows = xcalloc(nargs + 1, sizeof(*a->rows));
	a->errs = xcalloc(nargs + 1, sizeof(*a->errs));
}

/* Hand a part of the answer over and free it; frees r after the last. */
static void
deliver(struct db_req *r, struct answer *a, int stmt)
{
	struct db_result	 res;

	r->pending--;
	memset(&res, 0, sizeof(res));
	res.stmt = stmt;
	res.nsets = a->n;
	res.sets = a->sets;
	res.rows = a->rows;
	res.errs = a->errs;
	res.last = r->pending == 0;
	r->in_cb = 1;
	r->cb(&res, r->arg);
	r->in_cb = 0;
	if (res.last || r->cancelled)
		req_free(r);
	free(a->sets);
	free(a->rows);
	free(a->errs);
}

/* Answer every set that failed before SQL (all of them on early). */
static void
req_failed_sets(evutil_socket_t fd, short what, void *arg)
{
	struct db_req		*r = arg;
	struct answer		 a;
	size_t			 i;

	answer_init(&a, r->nargs);
	for (i = 0; i < r->nargs; i++) {
		if (r->early.code != DB_OK)
			a.errs[a.n] = r->early;
		else if (r->plan.errs[r->plan.map[i]].code != DB_OK)
			a.errs[a.n] = r->plan.errs[r->plan.map[i]];
		else
			continue;
		a.sets[a.n++] = i;
	}
	deliver(r, &a, 0);
}

static void
req_fail(struct db_req *r, const struct db_error *e)
{
	r->early = *e;
	r->pending = 1;
	event_active(r->ev, 0, 0);
}

/* Queue j for r on the database's backend; it ends in job_done. */
static void
submit(struct db *db, struct db_req *r, struct job *j)
{
	j->db = db;
	j->req = r;
	j->state = J_QUEUED;
	TAILQ_INSERT_TAIL(&r->jobs, j, rentry);
	if (db->conf->type == DBCONF_POSTGRES) {
		TAILQ_INSERT_TAIL(&db->pgq, j, entry);
		event_active(db->ev_dispatch, 0, 0);
		return;
	}
	db->nstmts++;
	pthread_mutex_lock(&db->lite.mu);
	TAILQ_INSERT_TAIL(&db->lite.todo, j, entry);
	pthread_cond_signal(&db->lite.cv);
	pthread_mutex_unlock(&db->lite.mu);
}

/* check_select: every name of r's select is an exposed column of t. */
static int
req_check_select(struct db_req *r, const struct dbsql_table *t)
{
	struct db_error	 e;
	size_t		 i, k;

	for (i = 0; i < r->nselect; i++) {
		for (k = 0; k < t->ncols; k++)
			if (strcmp(t->cols[k].name, r->select[i]) == 0)
				break;
		if (k == t->ncols) {
			dbsql_seterr(&e, DB_NOT_FOUND, "unknown column "
			    "\"%.64s\"", r->select[i]);
			req_fail(r, &e);
			return (-1);
		}
	}
	return (0);
}

/* Compile r against its table and submit the statements. */
static void
req_plan(struct db_req *r, const struct dbsql_table *t)
{
	struct db	*db = r->db;
	struct db_error	 e;
	struct job	*j;
	size_t		 i, nerr = 0;

	if (r->check_select && req_check_select(r, t) == -1)
		return;

	if (dbsql_plan(&r->plan, db->conf->type == DBCONF_POSTGRES ?
	    DBSQL_POSTGRES : DBSQL_SQLITE, t, r->has_select ?
	    (const char *const *)r->select : NULL, r->nselect, r->args,
	    r->nargs, db->conf->max_rows, (size_t)db->conf->batch_size,
	    &e) == -1) {
		req_fail(r, &e);
		return;
	}
	for (i = 0; i < r->plan.ndistinct; i++)
		nerr += r->plan.errs[i].code != DB_OK;
	r->pending = r->plan.nstmts + (nerr > 0 || r->plan.nstmts == 0);
	if (nerr > 0 || r->plan.nstmts == 0)
		event_active(r->ev, 0, 0);
	for (i = 0; i < r->plan.nstmts; i++) {
		if ((j = calloc(1, sizeof(*j))) == NULL)
			abort();
		j->st = r->plan.stmts[i];
		memset(&r->plan.stmts[i], 0, sizeof(r->plan.stmts[i]));
		submit(db, r, j);
	}
}

/* A statement's rows split into its sets' arrays of row objects. */
static void
answer_stmt(struct db_req *r, struct job *j)
{
	const struct dbsql_plan	*p = &r->plan;
	struct json_object	**arr, *row, *o;
	struct answer		 a;
	size_t			*pos, i, k, d, nsets = j->st.nsets;

	pos = xcalloc(p->ndistinct + 1, sizeof(*pos));
	arr = xcalloc(nsets + 1, sizeof(*arr));
	answer_init(&a, r->nargs);
	for (d = 0; d < p->ndistinct; d++)
		pos[d] = SIZE_MAX;
	for (k = 0; k < nsets; k++) {
		pos[j->st.sets[k]] = k;
		if (j->err.code == DB_OK)
			arr[k] = json_object_new_array();
	}
	for (i = 0; j->err.code == DB_OK && i < json_object_array_length(
	    j->rows); i++) {
		row = json_object_array_get_idx(j->rows, i);
		d = j->single ? j->st.sets[0] : (size_t)json_object_get_int64(
		    json_object_array_get_idx(row, 0));
		if (d >= p->ndistinct || pos[d] == SIZE_MAX)
			continue;
		o = json_object_new_object();
		for (k = 0; k < p->ncols; k++)
			json_object_object_add(o, p->cols[k], json_object_get(
			    json_object_array_get_idx(row, k + 2)));
		json_object_array_add(arr[pos[d]], o);
	}
	for (i = 0; i < r->nargs; i++) {
		if ((k = pos[p->map[i]]) == SIZE_MAX)
			continue;
		a.sets[a.n] = i;
		a.rows[a.n] = arr[k];
		a.errs[a.n++] = j->err;
	}
	free(pos);
	deliver(r, &a, 1);	/* r may be gone now */
	for (k = 0; k < nsets; k++)
		json_object_put(arr[k]);
	free(arr);
}

/*
 * A batched statement failed on a value (SQLSTATE class 22, e.g. "abc"
 * for an integer column): run its sets one by one, so that only the sets
 * whose own query fails get the error (SPEC 8.6: each parent row gets
 * what a query of its own would have returned).
 */
static void
req_split(struct db_req *r, struct job *j)
{
	const struct dbsql_table	*t = find_table(r->db, r->table);
	struct dbsql_plan		 p;
	struct db_error			 e;
	struct job			*nj;
	size_t				 i, k;

	r->pending += j->st.nsets - 1;
	for (k = 0; k < j->st.nsets; k++) {
		for (i = 0; r->plan.map[i] != j->st.sets[k]; i++)
			;
		/* it compiled before, alone it compiles the same */
		if (dbsql_plan(&p, DBSQL_POSTGRES, t, r->has_select ?
		    (const char *const *)r->select : NULL, r->nselect,
		    &r->args[i], 1, r->db->conf->max_rows, 1, &e) == -1 ||
		    p.nstmts != 1)
			abort();
		nj = xcalloc(1, sizeof(*nj));
		nj->single = 1;
		nj->st = p.stmts[0];
		memset(&p.stmts[0], 0, sizeof(p.stmts[0]));
		nj->st.sets[0] = j->st.sets[k];
		dbsql_plan_free(&p);
		submit(r->db, r, nj);
	}
}

/* Introspected rows (name, type, collatable) -> exposed columns. */
static struct dbsql_table *
cache_table(struct db *db, const char *name, struct json_object *rows)
{
	const struct dbconf_table	*tc = dbconf_table(db->conf, name);
	struct dbsql_table		*t, *nt;
	struct json_object		*row;
	const char			*col;
	size_t				 i, k, n;

	n = json_object_array_length(rows);
	if ((nt = reallocarray(db->tables, db->ntables + 1, sizeof(*nt))) ==
	    NULL)
		abort();
	db->tables = nt;
	t = &db->tables[db->ntables++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	if (db->conf->type == DBCONF_POSTGRES)
		t->schema = xstrdup(db->conf->schema);
	t->cols = xcalloc(n + 1, sizeof(*t->cols));
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(rows, i);
		col = json_object_get_string(json_object_array_get_idx(row, 0));
		for (k = 0; tc->columns != NULL && k < tc->ncolumns; k++)
			if (strcmp(tc->columns[k], col) == 0)
				break;
		if (tc->columns != NULL && k == tc->ncolumns)
			continue;
		t->cols[t->ncols].name = xstrdup(col);
		t->cols[t->ncols].type = xstrdup(json_object_get_string(
		    json_object_array_get_idx(row, 1)));
		t->cols[t->ncols++].collate = json_object_get_boolean(
		    json_object_array_get_idx(row, 2));
	}
	return (t);
}

static const struct dbsql_table *
find_table(const struct db *db, const char *name)
{
	size_t	 i;

	for (i = 0; i < db->ntables; i++)
		if (strcmp(db->tables[i].name, name) == 0)
			return (&db->tables[i]);
	return (NULL);
}

static void
job_done(struct job *j)
{
	struct db_req			*r = j->req;
	const struct dbsql_table	*t;
	struct db_error			 e;

	if (r == NULL) {
		job_free(j);
		return;
	}
	TAILQ_REMOVE(&r->jobs, j, rentry);
	if (!j->introspect && j->err.code == DB_BAD_USER_INPUT &&
	    j->st.nsets > 1)
		req_split(r, j);
	else if (!j->introspect)
		answer_stmt(r, j);
	else if (j->err.code != DB_OK)
		req_fail(r, &j->err);
	else if (json_object_array_length(j->rows) == 0) {
		dbsql_seterr(&e, DB_NOT_FOUND, "table \"%.64s\" not found",
		    r->table);
		req_fail(r, &e);
	} else {
		if ((t = find_table(r->db, r->table)) == NULL)
			t = cache_table(r->db, r->table, j->rows);
		req_plan(r, t);
	}
	job_free(j);
}

/* ---- the API ---- */

struct db *
db_new(struct event_base *base, const struct dbconf *conf,
    const char *basedir)
{
	struct db	*db;
	const char	*c = conf->conn;
	size_t		 i;
	int		 rc;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return (NULL);
	db->base = base;
	db->conf = conf;
	TAILQ_INIT(&db->reqs);
	TAILQ_INIT(&db->pgq);
	TAILQ_INIT(&db->lite.todo);
	TAILQ_INIT(&db->lite.done);
	db->lite.fds[0] = db->lite.fds[1] = -1;
	pthread_mutex_init(&db->lite.mu, NULL);
	pthread_cond_init(&db->lite.cv, NULL);
	db->ev_dispatch = event_new(base, -1, 0, pg_dispatch_cb, db);
	db->conns = calloc((size_t)conf->max_conns + 1, sizeof(*db->conns));
	if (db->ev_dispatch == NULL || db->conns == NULL) {
		db_free(db);
		return (NULL);
	}
	for (i = 0; i < (size_t)conf->max_conns; i++)
		db->conns[i].db = db;
	if (conf->type == DBCONF_POSTGRES) {
		pg_find_password(db);
		return (db);
	}
	if (c[0] == '/' || basedir == NULL || (strncmp(c, "file:", 5) ==
	    0 && c[5] == '/'))
		rc = (db->lite.path = strdup(c)) == NULL ? -1 : 0;
	else if (strncmp(c, "file:", 5) == 0)
		rc = asprintf(&db->lite.path, "file:%s/%s", basedir, c + 5);
	else
		rc = asprintf(&db->lite.path, "%s/%s", basedir, c);
	if (rc == -1 || lite_start(db) == -1) {
		if (rc == -1)
			db->lite.path = NULL;
		db_free(db);
		return (NULL);
	}
	return (db);
}

void
db_free(struct db *db)
{
	size_t	 i;

	while (!TAILQ_EMPTY(&db->reqs))
		db_cancel(TAILQ_FIRST(&db->reqs));
	lite_stop(db);
	for (i = 0; db->conns != NULL && i < (size_t)db->conf->max_conns;
	    i++) {
		if (db->conns[i].job != NULL)
			job_free(db->conns[i].job);
		pg_drop(&db->conns[i]);
	}
	free(db->conns);
	for (i = 0; i < db->ntables; i++)
		dbsql_table_free(&db->tables[i]);
	free(db->tables);
	if (db->ev_dispatch != NULL)
		event_free(db->ev_dispatch);
	free(db->password);
	free(db);
}

static void
copy_args(struct db_req *r, const struct db_read *rd)
{
	size_t	 i;

	r->args = xcalloc(rd->nargs + 1, sizeof(*r->args));
	r->nargs = rd->nargs;
	for (i = 0; i < rd->nargs; i++) {
		r->args[i].where = json_object_get(rd->args[i].where);
		r->args[i].sort = json_object_get(rd->args[i].sort);
		r->args[i].limit = json_object_get(rd->args[i].limit);
		r->args[i].skip = json_object_get(rd->args[i].skip);
		r->args[i].op = json_object_get(rd->args[i].op);
	}
	r->has_select = rd->select != NULL && !rd->check_select;
	r->check_select = rd->check_select;
	r->select = xcalloc(rd->nselect + 1, sizeof(char *));
	for (i = 0; rd->select != NULL && i < rd->nselect; i++)
		r->select[r->nselect++] = xstrdup(rd->select[i]);
}

struct db_req *
db_read(struct db *db, const struct db_read *rd, db_cb cb, void *arg)
{
	const struct dbsql_table	*t;
	struct db_req			*r;
	struct db_error			 e;
	struct job			*j;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->db = db;
	r->cb = cb;
	r->arg = arg;
	TAILQ_INIT(&r->jobs);
	TAILQ_INSERT_TAIL(&db->reqs, r, entry);
	r->table = xstrdup(rd->table);
	copy_args(r, rd);
	if ((r->ev = event_new(db->base, -1, 0, req_failed_sets, r)) == NULL) {
		req_free(r);
		return (NULL);
	}
	if (!db->conf->enabled || dbconf_table(db->conf, rd->table) == NULL) {
		dbsql_seterr(&e, DB_NOT_FOUND, "table \"%.64s\" not found",
		    rd->table);
		req_fail(r, &e);
	} else if ((t = find_table(db, rd->table)) != NULL)
		req_plan(r, t);
	else {
		j = xcalloc(1, sizeof(*j));
		j->introspect = 1;
		if (dbsql_introspect(&j->st, db->conf->type ==
		    DBCONF_POSTGRES ? DBSQL_POSTGRES : DBSQL_SQLITE,
		    db->conf->schema, rd->table) == -1) {
			job_free(j);
			dbsql_seterr(&e, DB_DATABASE_ERROR, "out of memory");
			req_fail(r, &e);
		} else
			submit(db, r, j);
	}
	return (r);
}

void
db_cancel(struct db_req *r)
{
	struct job	*j;

	while ((j = TAILQ_FIRST(&r->jobs)) != NULL) {
		TAILQ_REMOVE(&r->jobs, j, rentry);
		j->req = NULL;
		if (r->db->conf->type == DBCONF_POSTGRES)
			pg_cancel(r->db, j);
		else
			lite_cancel(r->db, j);
	}
	event_del(r->ev);
	if (r->in_cb)
		r->cancelled = 1;
	else
		req_free(r);
}

unsigned long
db_statements(const struct db *db)
{
	return (db->nstmts);
}
