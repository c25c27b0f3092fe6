/* story_parse.c: not written yet. */
#include "err.h"
