/* gpuvisor CLI: what every subcommand shares (dispatch entry, exit codes,
 * usage errors, formatting helpers). Private to src/cli. */
#ifndef GV_CLI_H
#define GV_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <getopt.h>
#include <jansson.h>

#include "client.h"

/* Exit codes, the CLI's contract with scripts. */
enum {
	GV_EXIT_OK = 0,
	GV_EXIT_REFUSED = 1,	 /* the daemon refused, or the command itself failed */
	GV_EXIT_USAGE = 2,	 /* bad command line */
	GV_EXIT_UNREACHABLE = 3, /* no daemon at the socket */
};

struct gv_cmd;

struct gv_cli {
	const char *socket;	  /* daemon socket path */
	const struct gv_cmd *cmd; /* the subcommand being run */
	struct gv_client *client; /* created on first use by gv_cli_client() */
};

typedef int (*gv_cmd_fn)(struct gv_cli *cli, int argc, char **argv);

/* A subcommand. Each cmd_<name>.c defines its own (const struct gv_cmd
 * gv_cmd_<name>) beside its handler, with its usage and help text, as git's
 * builtin/ files do; main.c only lists them. */
struct gv_cmd {
	const char *name;
	gv_cmd_fn run;	     /* returns the process exit code */
	const char *usage;   /* "create --profile P [--gpu GPU] ..." */
	const char *summary; /* one line for `gpuvisor help` */
	const char *help;    /* options and examples for `gpuvisor help NAME` */
};

/* The subcommands: each cmd_*.c exports its own (name, handler, usage and
 * help text); main.c lists them. */
extern const struct gv_cmd gv_cmd_gpus;
extern const struct gv_cmd gv_cmd_profiles;
extern const struct gv_cmd gv_cmd_create;
extern const struct gv_cmd gv_cmd_advise;
extern const struct gv_cmd gv_cmd_destroy;
extern const struct gv_cmd gv_cmd_list;
extern const struct gv_cmd gv_cmd_mode;
extern const struct gv_cmd gv_cmd_events;
extern const struct gv_cmd gv_cmd_run;
extern const struct gv_cmd gv_cmd_cdi;
extern const struct gv_cmd gv_cmd_sched;
extern const struct gv_cmd gv_cmd_top;
extern const struct gv_cmd gv_cmd_slurm_conf;
extern const struct gv_cmd gv_cmd_migrate;
extern const struct gv_cmd gv_cmd_migrations;
extern const struct gv_cmd gv_cmd_suspend;
extern const struct gv_cmd gv_cmd_resume;
extern const struct gv_cmd gv_cmd_ui;
extern const struct gv_cmd gv_cmd_version;

/* Prints the subcommand's usage and help to f. */
void gv_cli_help(const struct gv_cmd *cmd, FILE *f);
/* Prints "gpuvisor: <msg>" and the usage line to stderr; returns GV_EXIT_USAGE. */
int gv_cli_usage_error(const struct gv_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* getopt_long error for the current option (unknown option, missing argument). */
int gv_cli_bad_option(const struct gv_cli *cli, char **argv);
/* getopt_long for a subcommand, with what every subcommand treats alike:
 * --json (sets *as_json; pass NULL when opts has no "json") and --help. Returns
 * the next option for the caller, -1 after the last one, or '?' when the
 * command ends now with *exit_code: after printing --help, or a bad option. */
int gv_cli_getopt(const struct gv_cli *cli, int argc, char **argv, const char *shortopts,
		  const struct option *opts, bool *as_json, int *exit_code);
/* For subcommands with no options of their own and no operands: parses
 * --help and, when as_json is not NULL, --json. GV_CLI_GO to go on, else the
 * exit code. */
#define GV_CLI_GO (-1)
int gv_cli_parse_flags(const struct gv_cli *cli, int argc, char **argv, bool *as_json);

/* The client for cli->socket (created once). NULL after printing why. */
struct gv_client *gv_cli_client(struct gv_cli *cli);
/* Calls the daemon; on failure prints "gpuvisor: <reason>" and returns the
 * exit code (GV_EXIT_REFUSED or GV_EXIT_UNREACHABLE); 0 with *out set on
 * success. */
int gv_cli_call(struct gv_cli *cli, const char *method, const char *path, json_t *body,
		json_t **out);
/* prefix, seg percent-encoded, suffix: ("/v1/gpus/", "GPU-1a2b", "/mode") is
 * "/v1/gpus/GPU-1a2b/mode". The caller free()s it. NULL when there is no
 * client (the reason printed) or on ENOMEM. */
char *gv_cli_path(struct gv_cli *cli, const char *prefix, const char *seg, const char *suffix);
/* GET /v1/instances/ID/env, completed with what the workload also needs
 * (env.c); *out is the {"env":{...},"mounts":[...]} object. 0 or the exit
 * code, with the reason printed. */
int gv_cli_instance_env(struct gv_cli *cli, const char *id, json_t **out);
/* GET path for a listing subcommand. With as_json the answer is printed as
 * it came and *list is NULL; otherwise *list is its array member key
 * (borrowed from *resp), or the call fails with "gpuvisord's answer has no
 * "KEY" list". Returns the exit code; the caller json_decref's *resp. */
int gv_cli_get_list(struct gv_cli *cli, const char *path, const char *key, bool as_json,
		    json_t **resp, json_t **list);
/* Maps a gv_client_* return code to an exit code. */
int gv_cli_exit_for(int rc);
/* Prints a JSON value, indented, with a final newline. */
int gv_cli_print_json(const json_t *v);

/* Human sizes: "40.0 GiB", "512 MiB", "3.2 KiB". */
void gv_fmt_mib(uint64_t mib, char *buf, size_t len);
void gv_fmt_bytes(uint64_t bytes, char *buf, size_t len);
/* Parses "20g", "512m", "1.5GiB", "4096" (MiB) into MiB (binary units k, m,
 * g, t, p, optionally followed by "b" or "ib"); -EINVAL when it is not a size
 * or is under 1 MiB, -ERANGE above 1 PiB. */
int gv_parse_size_mib(const char *s, uint64_t *out);
/* Parses a non-negative decimal integer that fits in an int. */
int gv_parse_uint(const char *s, int *out);

/* Field readers that tolerate absent/null members. */
const char *gv_json_str(const json_t *obj, const char *key, const char *dflt);
/* Integer member as text ("-" when absent or null). */
void gv_json_int_text(const json_t *obj, const char *key, char *buf, size_t len);
/* An option's "X" or "X,Y,...": a JSON string for one, an array of strings
 * for several (a workload on several instances); NULL on ENOMEM. */
json_t *gv_json_id_list(const char *csv);

#endif
