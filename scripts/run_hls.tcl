# Vitis HLS flow for the zipml-hls synthesis tops.
#
#   CSIM=1 CSYNTH=1 COSIM=0 EXPORT=0 TOPS="zipml_sgd_b4_double" vitis_hls -f scripts/run_hls.tcl
#
# Environment (all optional):
#   TOPS    tops to build: "all" (default) or a space-separated list of names in
#           hls/kernels/zipml_tops.cpp (zipml_sgd_b{1,2,4,8}_{double,naive}, zipml_sgd_fixed32)
#   PART    FPGA part (default xcu250-figd2104-2L-e, an Alveo U250)
#   CLOCK   clock period in ns (default 3.33, 300 MHz)
#   CSIM, CSYNTH, COSIM, EXPORT   1 to run that step (default: CSIM=1 CSYNTH=1, others 0)
#   PROJECT_DIR   where projects go (default: the current folder)
#   ZIPML_ROOT    the source tree holding hls/ and testbench/ (default: this script's parent)
# C simulation and co-simulation run testbench/tb_hls_tops.cpp, the testbench ctest runs,
# on the golden vectors in testbench/vectors.

proc env_or {name default} {
    if {[info exists ::env($name)] && $::env($name) ne ""} { return $::env($name) }
    return $default
}

set root [file normalize [env_or ZIPML_ROOT [file join [file dirname [info script]] ..]]]
set all_tops {zipml_sgd_b1_double zipml_sgd_b1_naive zipml_sgd_b2_double zipml_sgd_b2_naive
              zipml_sgd_b4_double zipml_sgd_b4_naive zipml_sgd_b8_double zipml_sgd_b8_naive zipml_sgd_fixed32}
set tops [env_or TOPS all]
if {$tops eq "all"} { set tops $all_tops }
foreach top $tops {
    if {[lsearch -exact $all_tops $top] < 0} { error "unknown top '$top'; known: $all_tops" }
}
set part [env_or PART xcu250-figd2104-2L-e]
set clock [env_or CLOCK 3.33]
set csim [env_or CSIM 1]
set csynth [env_or CSYNTH 1]
set cosim [env_or COSIM 0]
set export [env_or EXPORT 0]
set project_dir [env_or PROJECT_DIR [pwd]]

set cflags "-std=c++14 -I$root/hls/include"
set tbflags "-std=c++14 -I$root/hls/include -I$root/testbench"
set vectors $root/testbench/vectors

foreach top $tops {
    open_project -reset [file join $project_dir proj_$top]
    set_top $top
    add_files $root/hls/kernels/zipml_tops.cpp -cflags $cflags
    add_files -tb $root/testbench/tb_hls_tops.cpp -cflags $tbflags
    add_files -tb $vectors
    open_solution -reset solution1 -flow_target vitis
    set_part $part
    create_clock -period $clock -name default
    if {$csim} { csim_design -argv $vectors }
    if {$csynth} { csynth_design }
    if {$cosim} { cosim_design -argv $vectors }
    if {$export} { export_design -format xo }
    close_project
}
exit
