/* test_story_parse.c: not written yet. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

int main(void)
{
	return 0;
}
