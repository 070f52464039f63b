// SPDX-License-Identifier: Apache-2.0
// shoal: the shoal CLI (placeholder until the daemon lands).
int main(void)
{
    return 0;
}
