# Stand-ins for the Vitis HLS Tcl commands: each records its name and arguments, one
# line per call, in the file named by STUB_LOG, so a test can check what run_hls.tcl
# would ask Vitis HLS to do. Used only by tests/test_hls_flow.py.
set ::stub_log [open $::env(STUB_LOG) w]
foreach cmd {open_project set_top add_files open_solution set_part create_clock csim_design csynth_design
             cosim_design export_design close_project} {
    proc $cmd {args} "puts \$::stub_log \[list $cmd {*}\$args\]; flush \$::stub_log"
}
rename exit _real_exit
proc exit {args} { close $::stub_log; _real_exit {*}$args }
source $::env(RUN_HLS)
