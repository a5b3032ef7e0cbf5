"""Which kernel messages come from a runner (nbclient, papermill, nbval) — pure, no kernel."""

from sora_widget.environment import is_runner_request


def execute(metadata=None, allow_stdin=False):
    return {
        "header": {"msg_type": "execute_request"},
        "metadata": metadata or {},
        "content": {"code": "1", "allow_stdin": allow_stdin},
    }


def test_an_execute_request_naming_no_cell_and_refusing_input_is_a_runner():
    assert is_runner_request(execute())


def test_a_frontend_names_the_cell_or_allows_input():
    assert not is_runner_request(execute({"cellId": "c1"}))
    assert not is_runner_request(execute(allow_stdin=True))  # the classic notebook, a console


def test_a_widget_button_comm_message_is_never_a_runner():
    # the widget's Generate click reaches the kernel as a comm message: no cellId, no
    # allow_stdin, yet a person's frontend sent it (its records must reach the metadata)
    comm_msg = {"header": {"msg_type": "comm_msg"}, "metadata": {}, "content": {"data": {}}}
    assert not is_runner_request(comm_msg)


def test_no_parent_message_is_not_a_runner():
    assert not is_runner_request({})
