/* SPDX-License-Identifier: MIT */
/* log.h - messages: the one thing every part of fuseuring calls up to.
 * Where they go (the terminal, a file, the system log) is log.c's
 * business and the lifecycle's choice. */
#ifndef FUSEURING_LOG_H
#define FUSEURING_LOG_H

__attribute__((format(printf, 1, 2))) void error(const char *f, ...);
__attribute__((format(printf, 1, 2))) void warn(const char *f, ...);
__attribute__((format(printf, 1, 2))) void info(const char *f, ...);

#endif
