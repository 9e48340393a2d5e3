/* Entry points of the sub-commands; each parses its own settings. */
#ifndef ADTALLY_ROLE_H
#define ADTALLY_ROLE_H

/* Each returns the process exit status: 0 when everything was delivered,
 * 1 when some work failed, 2 for bad usage or settings. argv[0] is the
 * sub-command's name. */
int role_schema_main(int argc, char **argv);
int role_dims_main(int argc, char **argv);
int role_process_main(int argc, char **argv);
int role_import_main(int argc, char **argv);
int role_collect_main(int argc, char **argv);
int role_simulate_main(int argc, char **argv);
int role_serve_main(int argc, char **argv);
int role_archive_main(int argc, char **argv);
int role_lake_main(int argc, char **argv);

#endif
