/*
 * main.c: the command line (SPEC section 1).  Only main() lives here;
 * everything else is in libswitchyard.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "master.h"

int
main(int argc, char *argv[])
{
	const char	*cfgpath = SY_DEFAULT_CONFIG, *sig = NULL;
	int		 ch, foreground = 0, check = 0;

	while ((ch = getopt(argc, argv, "c:fts:Vh")) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 's':
			sig = optarg;
			break;
		case 'V':
			printf("switchyard %s\n", PACKAGE_VERSION);
			return (0);
		case 'h':
		default:
			fprintf(ch == 'h' ? stdout : stderr, "usage: switchyard "
			    "[-c FILE] [-f] [-t] [-s reload|stop|quit|reopen] "
			    "[-V] [-h]\n");
			return (ch == 'h' ? 0 : 1);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "switchyard: unexpected argument \"%s\"\n",
		    argv[optind]);
		return (1);
	}
	if (check)
		return (master_check(cfgpath));
	if (sig != NULL)
		return (master_signal(cfgpath, sig));
	return (master_run(cfgpath, foreground));
}
