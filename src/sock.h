/*
 * sock.h: the listening sockets, bound by the master before it
 * daemonizes (so that "address in use" reaches the terminal) and
 * inherited by every worker.
 */
#ifndef SY_SOCK_H
#define SY_SOCK_H

/*
 * Bind and listen on addr: "host:port", "[v6]:port", ":port" or
 * "*:port" (every address).  The socket is non-blocking and close-on-exec.
 * Returns the descriptor, or -1 with *err set (caller frees).
 */
int	 sock_listen(const char *addr, char **err);

#endif
